import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.cases.models import Case
from app.engine.roles import Role
from app.history.chain import GENESIS, compute_hash, first_bad_seq
from app.history.models import AuditEntry
from app.history.repository import HistoryRepository


def append(
    session: Session,
    *,
    case: Case,
    actor: Actor,
    action: str,
    from_state: str | None,
    to_state: str,
    at: datetime,
    comment: str | None = None,
    reason: str | None = None,
    fields: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the case's chain and move the case's head to it.

    The entry follows the head the case records, not the newest row found: a removed entry
    is then never silently replaced. The entry and the head are written when the caller
    writes the case (`access.save`, or adding a new case); the case's row goes first, so a
    concurrent writer fails on its version before its entry could collide with this one.
    """
    # A case not yet written has no column defaults yet: its head is the genesis.
    head_seq, head_hash = case.head_seq or 0, case.head_hash or GENESIS
    entry = AuditEntry(
        case_id=case.id,
        seq=head_seq + 1,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor_org=actor.org_slug,
        actor_role=actor.role.value,
        at=at,
        comment=comment,
        reason=reason,
        fields=fields or {},
        prev_hash=head_hash,
    )
    entry.hash = compute_hash(entry, entry.prev_hash)
    case.head_seq, case.head_hash = entry.seq, entry.hash
    session.add(entry)
    return entry


def visible_entries(session: Session, actor: Actor, case_id: uuid.UUID) -> list[AuditEntry]:
    """The case's history as the actor may read it: a consulted ministry does not see what
    another consulted ministry recorded (its opinion, its answer)."""
    entries = HistoryRepository(session).for_case(case_id)
    if actor.role is not Role.CONSULTED:
        return entries
    return [
        e for e in entries if e.actor_role != Role.CONSULTED.value or e.actor_org == actor.org_slug
    ]


@dataclass(frozen=True)
class Verification:
    valid: bool
    entries: int
    first_bad_seq: int | None


def verify(session: Session, case: Case) -> Verification:
    """Check the case's chain link by link and against the head the case records."""
    entries = HistoryRepository(session).for_case(case.id)
    bad = first_bad_seq(entries, case.head_seq, case.head_hash)
    return Verification(valid=bad is None, entries=len(entries), first_bad_seq=bad)
