from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, case, func, select, true
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.cases.access import visible_cases
from app.cases.models import Case
from app.core.text import fold
from app.events.models import Event

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


class PipelineRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def marker(
        self, actor: Actor, today: date, workflow: str | None, province: str | None
    ) -> tuple[int, date | None]:
        """What the pipeline's ETag is made of, read in one statement from two indexes:
        the newest pipeline-relevant event among the cases in scope (every change to a case
        writes one in its transaction), and the next due date not yet passed (the overdue set
        changes only when `today` crosses one)."""
        newest = select(func.max(Event.id)).where(Event.type.not_in(UNSEEN_EVENT_TYPES))
        upcoming = select(func.min(Case.due_at)).where(Case.due_at >= today)
        if not _unscoped(actor, workflow, province):
            scope = _scope(actor, workflow, province)
            newest = newest.join(Case, Event.case_id == Case.id).where(scope)
            upcoming = upcoming.where(scope)
        row = self.session.execute(
            select(newest.scalar_subquery(), upcoming.scalar_subquery())
        ).one()
        return int(row[0] or 0), row[1]

    def counts(
        self, actor: Actor, today: date, workflow: str | None, province: str | None = None
    ) -> dict[str, tuple[int, int]]:
        """Per state: (cases, overdue cases), by one GROUP BY (see bench/pipeline_bench.py)."""
        late = case((Case.due_at < today, 1), else_=0)
        query = (
            select(Case.state, func.count(), func.coalesce(func.sum(late), 0))
            .where(_scope(actor, workflow, province))
            .group_by(Case.state)
        )
        return {state: (int(n), int(overdue)) for state, n, overdue in self.session.execute(query)}

    def cases(
        self, actor: Actor, workflow: str | None, province: str | None = None
    ) -> list[Row[Any]]:
        """The cases in scope, only the columns the board shows (no ORM objects: 100k rows)."""
        query = (
            select(
                Case.id,
                Case.code,
                Case.applicant_name,
                Case.province,
                Case.state,
                Case.due_at,
                Case.workflow_key,
                Case.workflow_version,
                Case.state_entered_at,
            )
            .where(_scope(actor, workflow, province))
            .order_by(Case.due_at, Case.created_at)
        )
        return list(self.session.execute(query))
