import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.orm import Session, SessionTransaction

from app.events.models import Event

# Key of the PostgreSQL advisory lock that orders event ids by commit (any fixed bigint).
EVENT_ORDER_LOCK = 0x51_75_61_6E_67_54_72  # "QuangTr"
# Key, in a session's `info`, of the events to write as its transaction commits.
PENDING = "pending_events"


def emit(
    session: Session, event_type: str, case_id: uuid.UUID, data: dict[str, Any], *, at: datetime
) -> None:
    """Record an event in the current transaction: it exists if and only if the change commits.

    The row is written as the transaction commits (`_write_pending`), so that PostgreSQL's
    ordering lock is held only for the last moment of the transaction, not while the rest of
    the request's work runs.
    """
    session.info.setdefault(PENDING, []).append(
        {"type": event_type, "case_id": case_id, "at": at, "data": data}
    )


def pending(session: Session) -> list[dict[str, Any]]:
    """The events recorded in the session's transaction, to be written as it commits."""
    return list(session.info.get(PENDING, ()))


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    rows = session.info.pop(PENDING, None)
    if rows:
        _take_order_lock(session)
        session.execute(insert(Event), rows)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the whole transaction, committed or not
        session.info.pop(PENDING, None)


def emit_many(
    session: Session,
    event_type: str,
    events: list[tuple[uuid.UUID, dict[str, Any]]],
    *,
    at: datetime,
) -> None:
    """Record many events of one type, (case id, data) each, in one statement, in the current
    transaction and in the order given (bulk import)."""
    if not events:
        return
    _take_order_lock(session)
    rows = [{"type": event_type, "case_id": c, "at": at, "data": data} for c, data in events]
    session.connection().execute(insert(Event), rows)


def _take_order_lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # Readers follow the feed by id, so ids must become visible in id order. A sequence
        # hands out ids at insert, not at commit: without this lock a later id could commit
        # first and a reader's cursor would pass the earlier one for good. Held until commit,
        # it makes event-writing transactions take their ids one commit after another.
        # (SQLite serialises write transactions already.)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_ORDER_LOCK})
