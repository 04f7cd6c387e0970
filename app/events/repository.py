from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.cases.access import visible_cases
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
