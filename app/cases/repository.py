import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.access import visible_cases
from app.auth.actor import Actor
from app.auth.models import Organisation
from app.cases.models import Case, DossierCodeSequence, PublishedWorkflow
from app.consultations.models import Consultation
from app.core.models import utcnow
from app.core.text import fold
from app.engine.roles import Role


@dataclass(frozen=True)
class CaseFilters:
    state: str | None = None
    province: str | None = None
    applicant: str | None = None
    words: tuple[str, ...] = ()
    overdue: bool | None = None
    today: date | None = None


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    id: uuid.UUID


class CaseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def page(
        self, actor: Actor, filters: CaseFilters, after: Cursor | None, limit: int
    ) -> list[tuple[Case, str]]:
        conditions: list[ColumnElement[bool]] = [visible_cases(actor)]
        if filters.state:
            conditions.append(Case.state == filters.state)
        if filters.province:
            conditions.append(Case.province_key == fold(filters.province))
        if filters.applicant:
            conditions.append(Organisation.slug == filters.applicant)
        conditions.extend(
            Case.search_text.contains(word, autoescape=True) for word in filters.words
        )
        if filters.overdue is not None and filters.today is not None:
            late = Case.due_at < filters.today
            conditions.append(late if filters.overdue else or_(Case.due_at.is_(None), ~late))
        if after is not None:
            conditions.append(
                or_(
                    Case.created_at < after.created_at,
                    and_(Case.created_at == after.created_at, Case.id < after.id),
                )
            )
        rows = self.session.execute(
            select(Case, Organisation.slug)
            .join(Organisation, Case.applicant_org_id == Organisation.id)
            .where(*conditions)
            .order_by(Case.created_at.desc(), Case.id.desc())
            .limit(limit)
        )
        return [(case, slug) for case, slug in rows]

    def applicant_names(self, applicant_org_id: int) -> set[str]:
        """The names under which an applicant organisation has filed cases."""
        return set(
            self.session.scalars(
                select(Case.applicant_name).where(Case.applicant_org_id == applicant_org_id)
            )
        )

    def workflow_versions_in_use(self) -> list[tuple[str, int]]:
        """Every distinct (workflow key, version) cases use, found by seeks in
        `ix_cases_workflow_key_version` (one per key and one per version, plus one), so the
        readiness check costs the same at ten cases as at a million."""
        key_col, version_col = Case.workflow_key, Case.workflow_version
        found: list[tuple[str, int]] = []
        key = self.session.scalar(select(key_col).order_by(key_col).limit(1))
        while key is not None:
            versions = select(version_col).where(key_col == key).order_by(version_col).limit(1)
            version = self.session.scalar(versions)
            while version is not None:
                found.append((key, version))
                version = self.session.scalar(versions.where(version_col > version))
            key = self.session.scalar(
                select(key_col).where(key_col > key).order_by(key_col).limit(1)
            )
        return found

    def count_pinned_to(self, workflow_key: str, workflow_version: int) -> int:
        """How many cases use this workflow version."""
        return int(
            self.session.scalar(
                select(func.count()).where(
                    Case.workflow_key == workflow_key, Case.workflow_version == workflow_version
                )
            )
            or 0
        )

    def add(self, case: Case) -> Case:
        self.session.add(case)
        self.session.flush()
        return case

    def next_code_number(self, agency: str, day: str) -> int:
        """Take the next dossier number of the day; concurrent callers queue on the row."""
        dialect = sqlite if self.session.get_bind().dialect.name == "sqlite" else postgresql
        statement = (
            dialect.insert(DossierCodeSequence)
            .values(agency=agency, day=day, last=1)
            .on_conflict_do_update(
                index_elements=["agency", "day"],
                set_={"last": DossierCodeSequence.last + 1},
            )
            .returning(DossierCodeSequence.last)
        )
        return int(self.session.execute(statement).scalar_one())


class PublishedWorkflowRepository:
    """The content hash recorded for each workflow version when it was first loaded."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def hashes(self) -> dict[tuple[str, int], str]:
        rows = self.session.execute(
            select(
                PublishedWorkflow.workflow_key,
                PublishedWorkflow.workflow_version,
                PublishedWorkflow.content_hash,
            )
        )
        return {(key, version): digest for key, version, digest in rows}

    def record(self, key: str, version: int, content_hash: str, source: str) -> None:
        """Record a version's hash unless one is recorded (concurrent starts agree)."""
        dialect = sqlite if self.session.get_bind().dialect.name == "sqlite" else postgresql
        self.session.execute(
            dialect.insert(PublishedWorkflow)
            .values(
                workflow_key=key,
                workflow_version=version,
                content_hash=content_hash,
                source=source,
                recorded_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["workflow_key", "workflow_version"])
        )

    def replace(self, key: str, version: int, content_hash: str, source: str) -> None:
        """A version no case uses was corrected: its new hash is the one to keep."""
        row = self.session.get_one(PublishedWorkflow, (key, version))
        row.content_hash, row.source = content_hash, source
        self.session.flush()


def waiting_condition(actor: Actor, states: list[tuple[str, int, str]]) -> ColumnElement[bool]:
    """Cases the actor sees, in one of `states` (workflow key, version, state); for a
    consulted ministry, only those whose consultation of it is open and unanswered."""
    in_states = or_(
        *(
            and_(Case.workflow_key == key, Case.workflow_version == version, Case.state == state)
            for key, version, state in states
        )
    )
    conditions = [visible_cases(actor), in_states]
    if actor.role is Role.CONSULTED:
        conditions.append(
            exists(
                select(Consultation.id).where(
                    Consultation.case_id == Case.id,
                    Consultation.ministry_org_id == actor.org_id,
                    Consultation.closed_at.is_(None),
                    Consultation.answered_at.is_(None),
                )
            )
        )
    return and_(*conditions)


def waiting_page(
    session: Session,
    actor: Actor,
    states: list[tuple[str, int, str]],
    after: tuple[date | None, datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[Case, str]]:
    """Up to `limit` cases waiting for the actor after `after`: by due date (so overdue ones
    first), then those without a running clock, by creation."""
    if not states:
        return []
    scope = waiting_condition(actor, states)
    base = select(Case, Organisation.slug).join(
        Organisation, Case.applicant_org_id == Organisation.id
    )
    rows: list[tuple[Case, str]] = []
    if after is None or after[0] is not None:
        dated = base.where(scope, Case.due_at.is_not(None))
        if after is not None:
            due, created, ident = after
            dated = dated.where(
                or_(
                    Case.due_at > due,
                    and_(Case.due_at == due, Case.created_at > created),
                    and_(Case.due_at == due, Case.created_at == created, Case.id > ident),
                )
            )
        ordered = dated.order_by(Case.due_at, Case.created_at, Case.id).limit(limit)
        rows = [(c, slug) for c, slug in session.execute(ordered)]
    if len(rows) < limit:
        undated = base.where(scope, Case.due_at.is_(None))
        if after is not None and after[0] is None:
            _, created, ident = after
            undated = undated.where(
                or_(Case.created_at > created, and_(Case.created_at == created, Case.id > ident))
            )
        ordered = undated.order_by(Case.created_at, Case.id).limit(limit - len(rows))
        rows += [(c, slug) for c, slug in session.execute(ordered)]
    return rows
