from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from app.idempotency.models import IdempotencyKey


class IdempotencyKeyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_for_update(self, organisation_id: int, key: str) -> IdempotencyKey | None:
        """The key's row, locked until the end of the transaction (PostgreSQL)."""
        return self.session.scalar(
            select(IdempotencyKey)
            .where(IdempotencyKey.organisation_id == organisation_id, IdempotencyKey.key == key)
            .with_for_update()
        )

    def add(self, row: IdempotencyKey) -> IdempotencyKey:
        self.session.add(row)
        self.session.flush()
        return row

    def complete(self, row_id: int, attempt: Any, values: dict[str, Any]) -> bool:
        """Store the response, if `attempt` still holds the key (nobody took it over)."""
        result = self.session.execute(
            update(IdempotencyKey)
            .where(
                IdempotencyKey.id == row_id,
                IdempotencyKey.attempt == attempt,
                IdempotencyKey.completed_at.is_(None),
            )
            .values(locked_until=None, **values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def release(self, row_id: int, attempt: Any) -> None:
        """Forget an attempt that produced nothing (a server error): a retry runs afresh."""
        self.session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.id == row_id,
                IdempotencyKey.attempt == attempt,
                IdempotencyKey.completed_at.is_(None),
            )
        )

    @staticmethod
    def _expired(now: datetime) -> ColumnElement[bool]:
        return and_(
            IdempotencyKey.expires_at <= now,
            # A running attempt keeps its key until it finishes or its lease runs out.
            or_(IdempotencyKey.locked_until.is_(None), IdempotencyKey.locked_until <= now),
        )

    def count_expired(self, now: datetime) -> int:
        found = select(func.count()).select_from(IdempotencyKey).where(self._expired(now))
        return int(self.session.scalar(found) or 0)

    def delete_expired(self, now: datetime) -> int:
        result = self.session.execute(delete(IdempotencyKey).where(self._expired(now)))
        return int(result.rowcount)  # type: ignore[attr-defined]
