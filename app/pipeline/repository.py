from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.cases.access import visible_cases
from app.cases.models import Case


class PipelineRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def counts(self, actor: Actor, today: date, workflow: str | None) -> dict[str, tuple[int, int]]:
        """Per state: (cases, overdue cases)."""
        late = case((Case.due_at < today, 1), else_=0)
        query = (
            select(Case.state, func.count(), func.coalesce(func.sum(late), 0))
            .where(visible_cases(actor))
            .group_by(Case.state)
        )
        if workflow:
            query = query.where(Case.workflow_key == workflow)
        return {state: (int(n), int(overdue)) for state, n, overdue in self.session.execute(query)}

    def cases(self, actor: Actor, workflow: str | None) -> list[Case]:
        query = select(Case).where(visible_cases(actor)).order_by(Case.due_at, Case.created_at)
        if workflow:
            query = query.where(Case.workflow_key == workflow)
        return list(self.session.scalars(query))
