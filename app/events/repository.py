from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.access import visible_cases
from app.auth.actor import Actor
from app.cases.models import Case
from app.events.models import Event


class EventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def after(self, actor: Actor, cursor: int, limit: int) -> list[Event]:
        """Events newer than `cursor` on cases the actor may see, oldest first."""
        return list(
            self.session.scalars(
                select(Event)
                .join(Case, Event.case_id == Case.id)
                .where(Event.id > cursor, visible_cases(actor))
                .order_by(Event.id)
                .limit(limit)
            )
        )

    def latest_id(self, actor: Actor) -> int:
        """The newest event id the actor may see (0 when none): where a live page starts."""
        newest = self.session.scalar(
            select(func.max(Event.id))
            .join(Case, Event.case_id == Case.id)
            .where(visible_cases(actor))
        )
        return int(newest or 0)
