import uuid
from typing import Any

from sqlalchemy.orm import Session

from app.core.models import utcnow
from app.events.models import Event


def emit(session: Session, event_type: str, case_id: uuid.UUID, data: dict[str, Any]) -> Event:
    """Record an event in the current transaction: it exists if and only if the change commits."""
    event = Event(type=event_type, case_id=case_id, at=utcnow(), data=data)
    session.add(event)
    session.flush()
    return event
