"""Which cases an actor may see, and loading one of them.

Every domain that works on a case (documents, consultations, history, letters, events,
webhooks, the pipeline) asks this module, so that "not yours" answers 404 the same way
everywhere, as if the case did not exist, and so that a change of a case always moves its
version.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, exists, select, true
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.auth.actor import Actor
from app.auth.models import Organisation
from app.cases.models import Case
from app.consultations.models import Consultation
from app.context import AppContext
from app.core.errors import NotFound, VersionMismatch
from app.engine.roles import Role
from app.engine.workflow import Workflow


def visible_cases(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on `Case` restricting rows to those the actor may see."""
    if actor.role is Role.APPLICANT:
        return Case.applicant_org_id == actor.org_id
    if actor.role is Role.CONSULTED:
        return exists(
            select(Consultation.id).where(
                Consultation.case_id == Case.id, Consultation.ministry_org_id == actor.org_id
            )
        )
    return true()


@dataclass
class CaseRecord:
    """A case together with what is needed to show it: its applicant's slug and workflow."""

    case: Case
    applicant_slug: str
    workflow: Workflow


def find_visible(
    session: Session, actor: Actor, case_id: uuid.UUID, *, lock: bool = False
) -> tuple[Case, str] | None:
    """The case with its applicant organisation's slug, if the actor may see it.

    With `lock`, the case's row is held until the transaction ends (PostgreSQL; SQLite
    write transactions are serialised already), so concurrent writers queue up.
    """
    query = (
        select(Case, Organisation.slug)
        .join(Organisation, Case.applicant_org_id == Organisation.id)
        .where(Case.id == case_id, visible_cases(actor))
    )
    if lock:
        query = query.with_for_update(of=Case)
    row = session.execute(query).first()
    return (row[0], row[1]) if row else None


def load(
    session: Session, ctx: AppContext, actor: Actor, case_id: uuid.UUID, *, lock: bool = False
) -> CaseRecord:
    """The visible case `case_id`, or 404."""
    found = find_visible(session, actor, case_id, lock=lock)
    if found is None:
        raise NotFound("no such case")
    case, slug = found
    return CaseRecord(case, slug, ctx.workflows.get(case.workflow_key, case.workflow_version))


def check_version(case: Case, expected: int) -> None:
    """412 unless the client read the version the case is at."""
    if case.version != expected:
        raise VersionMismatch(
            f"the case is at version {case.version}, not {expected}",
            {"current_version": case.version},
        )


def save(session: Session, case: Case, now: datetime) -> None:
    """Write the case as its next version; a concurrent writer makes this fail with 412."""
    case.version += 1
    case.updated_at = now
    case.refresh_search_text()
    try:
        session.flush()
    except StaleDataError:
        raise VersionMismatch("the case was changed by someone else; read it again") from None
