import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app import access
from app.auth.actor import Actor
from app.engine.workflow import Workflow
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


@dataclass(frozen=True)
class Line:
    """One history entry as one reader sees it: `redacted` when its fields were narrowed
    for that reader (the stored entry, which its hash covers, says more)."""

    seq: int
    action: str
    from_state: str | None
    to_state: str
    actor_org: str
    actor_role: str
    at: datetime
    comment: str | None
    reason: str | None
    fields: dict[str, Any]
    prev_hash: str
    hash: str
    redacted: bool


def for_reader(
    session: Session, actor: Actor, workflow: Workflow, case_id: uuid.UUID
) -> list[Line]:
    """The case's history, oldest first, as `actor` may read it (`app.access.readable_fields`):
    entries that are another ministry's are left out, names of other ministries narrowed."""
    lines = []
    for entry in HistoryRepository(session).for_case(case_id):
        stored = entry.fields or {}
        fields = access.readable_fields(
            actor, workflow, by_org=entry.actor_org, by_role=entry.actor_role, fields=stored
        )
        if fields is None:
            continue
        lines.append(
            Line(
                seq=entry.seq,
                action=entry.action,
                from_state=entry.from_state,
                to_state=entry.to_state,
                actor_org=entry.actor_org,
                actor_role=entry.actor_role,
                at=entry.at,
                comment=entry.comment,
                reason=entry.reason,
                fields=fields,
                prev_hash=entry.prev_hash,
                hash=entry.hash,
                redacted=fields != stored,
            )
        )
    return lines
