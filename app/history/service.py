import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.history.chain import GENESIS, compute_hash, first_broken_seq
from app.history.models import AuditEntry
from app.history.repository import HistoryRepository


def append(
    session: Session,
    *,
    case_id: uuid.UUID,
    actor: Actor,
    action: str,
    from_state: str | None,
    to_state: str,
    at: datetime,
    comment: str | None = None,
    reason: str | None = None,
    fields: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the case's chain. The caller holds the case's row (version check)."""
    repo = HistoryRepository(session)
    last = repo.last(case_id)
    entry = AuditEntry(
        case_id=case_id,
        seq=(last.seq + 1) if last else 1,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor_org=actor.org_slug,
        actor_role=actor.role.value,
        at=at,
        comment=comment,
        reason=reason,
        fields=fields or {},
    )
    entry.prev_hash = last.hash if last else GENESIS
    entry.hash = compute_hash(entry, entry.prev_hash)
    repo.add(entry)
    return entry


@dataclass(frozen=True)
class Verification:
    valid: bool
    entries: int
    first_bad_seq: int | None


def verify(session: Session, case_id: uuid.UUID) -> Verification:
    entries = HistoryRepository(session).for_case(case_id)
    bad = first_broken_seq(entries)
    return Verification(valid=bad is None, entries=len(entries), first_bad_seq=bad)
