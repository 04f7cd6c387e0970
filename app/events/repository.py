from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.access import visible_cases, visible_events
from app.auth.actor import Actor
from app.cases.models import Case
from app.engine.workflow import Workflow
from app.events.models import Event


class EventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def after(
        self, actor: Actor, workflows: Iterable[Workflow], cursor: int, limit: int
    ) -> list[Event]:
        """Events newer than `cursor` the actor may read, on cases it may see, oldest first."""
        return list(
            self.session.scalars(
                select(Event)
                .join(Case, Event.case_id == Case.id)
                .where(Event.id > cursor, visible_cases(actor), visible_events(actor, workflows))
                .order_by(Event.id)
                .limit(limit)
            )
        )

    def latest_id(self, actor: Actor, workflows: Iterable[Workflow]) -> int:
        """The newest event id the actor may read (0 when none): where a live page starts."""
        newest = self.session.scalar(
            select(func.max(Event.id))
            .join(Case, Event.case_id == Case.id)
            .where(visible_cases(actor), visible_events(actor, workflows))
        )
        return int(newest or 0)
