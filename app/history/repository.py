import uuid
from typing import Any, NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.cases.models import Case
from app.history.models import AuditEntry


class Head(NamedTuple):
    """A case's recorded chain head: the seq and hash its newest entry must have."""

    case_id: uuid.UUID
    seq: int
    hash: str


class HistoryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def for_case(self, case_id: uuid.UUID) -> list[AuditEntry]:
        return list(
            self.session.scalars(
                select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.seq)
            )
        )

    def heads(self) -> list[Head]:
        """Every case's recorded head, in a stable order (cases whose history is gone too)."""
        rows = self.session.execute(
            select(Case.id, Case.head_seq, Case.head_hash).order_by(Case.id)
        )
        return [Head(*row) for row in rows]

    def latest_of(self, case_id: uuid.UUID, action: str) -> AuditEntry | None:
        """The case's newest entry recording `action`."""
        return self.session.scalar(
            select(AuditEntry)
            .where(AuditEntry.case_id == case_id, AuditEntry.action == action)
            .order_by(AuditEntry.seq.desc())
            .limit(1)
        )

    def case_ids(self) -> list[uuid.UUID]:
        """Every case that has a history, in a stable order."""
        return list(
            self.session.scalars(select(AuditEntry.case_id).distinct().order_by(AuditEntry.case_id))
        )

    def add(self, entry: AuditEntry) -> None:
        self.session.add(entry)
        self.session.flush()

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        """Insert entries given as column values, in one executemany (bulk import)."""
        if rows:
            self.session.connection().execute(insert(AuditEntry), rows)

    def head(self, case_id: uuid.UUID) -> Head | None:
        row = self.session.execute(
            select(Case.id, Case.head_seq, Case.head_hash).where(Case.id == case_id)
        ).first()
        return Head(*row) if row else None
