import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    and_,
    bindparam,
    case,
    func,
    literal,
    select,
    true,
    tuple_,
)
from sqlalchemy.orm import Session

from app.access import visible_cases, visible_events
from app.auth.actor import Actor
from app.cases.models import Case
from app.core.text import fold
from app.engine.workflow import Workflow
from app.events.models import Event

# The columns the board shows (plain rows, no ORM objects).
PAGE_COLUMNS = (
    Case.id,
    Case.code,
    Case.applicant_name,
    Case.province,
    Case.state,
    Case.due_at,
    Case.workflow_key,
    Case.workflow_version,
    Case.created_at,
)


@dataclass(frozen=True)
class PageCursor:
    """Where a page of the pipeline ended: its last case's sort key."""

    due_at: date | None
    created_at: datetime
    id: uuid.UUID


# Events that change nothing the pipeline shows (it shows no documents or opinions).
UNSEEN_EVENT_TYPES = ("document.uploaded", "consultation.answered")


def _scope(actor: Actor, workflow: str | None, province: str | None) -> ColumnElement[bool]:
    conditions = [visible_cases(actor)]
    if workflow:
        conditions.append(Case.workflow_key == workflow)
    if province:
        conditions.append(Case.province_key == fold(province))
    return and_(*conditions)


def _unscoped(actor: Actor, workflow: str | None, province: str | None) -> bool:
    """Whether the actor sees every case and no filter applies: then no join is needed."""
    return not workflow and not province and visible_cases(actor).compare(true())


def read_marker(
    connection: Connection,
    actor: Actor,
    today: date,
    workflow: str | None,
    province: str | None,
    workflows: Iterable[Workflow] = (),
) -> tuple[int, date | None]:
    """What the pipeline's ETag is made of, read in one statement from two indexes: the
    newest pipeline-relevant event among the cases in scope (every change to a case writes
    one in its transaction) that the actor may read (so that the tag does not move on another
    ministry's news), and the next due date not yet passed (the overdue set changes only when
    `today` crosses one)."""
    if _unscoped(actor, workflow, province):
        statement = _UNSCOPED_MARKER
    else:
        scope = _scope(actor, workflow, province)
        newest = _NEWEST.join(Case, Event.case_id == Case.id).where(
            scope, visible_events(actor, workflows)
        )
        statement = select(newest.scalar_subquery(), _UPCOMING.where(scope).scalar_subquery())
    row = connection.execute(statement, {"today": today}).one()
    return int(row[0] or 0), row[1]


_NEWEST = select(func.max(Event.id)).where(Event.type.not_in(UNSEEN_EVENT_TYPES))
_UPCOMING = select(func.min(Case.due_at)).where(Case.due_at >= bindparam("today"))
# Built once: most polls see every case.
_UNSCOPED_MARKER = select(_NEWEST.scalar_subquery(), _UPCOMING.scalar_subquery())


class PipelineRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def marker(
        self,
        actor: Actor,
        today: date,
        workflow: str | None,
        province: str | None,
        workflows: Iterable[Workflow] = (),
    ) -> tuple[int, date | None]:
        return read_marker(self.session.connection(), actor, today, workflow, province, workflows)

    def counts(
        self, actor: Actor, today: date, workflow: str | None, province: str | None = None
    ) -> dict[tuple[str, str], tuple[int, int]]:
        """Per (workflow key, state): (cases, overdue cases), by one GROUP BY (see
        bench/pipeline_bench.py). Two workflows' states of one name are counted apart."""
        late = case((Case.due_at < today, 1), else_=0)
        query = (
            select(Case.workflow_key, Case.state, func.count(), func.coalesce(func.sum(late), 0))
            .where(_scope(actor, workflow, province))
            .group_by(Case.workflow_key, Case.state)
        )
        return {
            (key, state): (int(n), int(overdue))
            for key, state, n, overdue in self.session.execute(query)
        }

    def page(
        self,
        actor: Actor,
        workflow: str | None,
        province: str | None,
        after: PageCursor | None,
        limit: int,
    ) -> list[Row[Any]]:
        """Up to `limit` cases in scope after `after`: by due date (so overdue ones first),
        then those without a running clock; each part read along its index."""
        scope = _scope(actor, workflow, province)
        rows: list[Row[Any]] = []
        if after is None or after.due_at is not None:
            dated = select(*PAGE_COLUMNS).where(scope, Case.due_at.is_not(None))
            if after is not None:
                dated = dated.where(
                    tuple_(Case.due_at, Case.created_at, Case.id)
                    > tuple_(
                        literal(after.due_at, Case.due_at.type),
                        literal(after.created_at, Case.created_at.type),
                        literal(after.id, Case.id.type),
                    )
                )
            order = (Case.due_at, Case.created_at, Case.id)
            rows = list(self.session.execute(dated.order_by(*order).limit(limit)))
        if len(rows) < limit:
            undated = select(*PAGE_COLUMNS).where(scope, Case.due_at.is_(None))
            if after is not None and after.due_at is None:
                undated = undated.where(
                    tuple_(Case.created_at, Case.id)
                    > tuple_(
                        literal(after.created_at, Case.created_at.type),
                        literal(after.id, Case.id.type),
                    )
                )
            undated = undated.order_by(Case.created_at, Case.id).limit(limit - len(rows))
            rows += list(self.session.execute(undated))
        return rows

    def median_entries(
        self,
        actor: Actor,
        workflow: str | None,
        province: str | None,
        counts: dict[tuple[str, str], int],
    ) -> dict[tuple[str, str], list[datetime]]:
        """Per (workflow key, state), the one or two middle `state_entered_at` values of its
        cases."""
        scope = _scope(actor, workflow, province)
        found: dict[tuple[str, str], list[datetime]] = {}
        for (key, state), n in counts.items():
            if n == 0:
                continue
            query = (
                select(Case.state_entered_at)
                .where(scope, Case.workflow_key == key, Case.state == state)
                .order_by(Case.state_entered_at)
                .offset((n - 1) // 2)
                .limit(2 if n % 2 == 0 else 1)
            )
            found[key, state] = list(self.session.scalars(query))
        return found
