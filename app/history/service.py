import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app import access
from app.auth.actor import Actor
from app.cases.models import Case
from app.engine.workflow import Workflow
from app.history.chain import GENESIS, compute_hash, content_hash, first_bad_seq, row_content
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
        actor_user_id=actor.user_id,
        actor_user_name=actor.user_name if actor.user_id is not None else None,
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


@dataclass(frozen=True)
class FirstEntry:
    """The first entry of a new case's chain, for `start_chains`."""

    case_id: uuid.UUID
    action: str
    to_state: str
    at: datetime
    fields: dict[str, Any]


def first_entries(
    entries: list[FirstEntry], *, actor_org: str, actor_role: str
) -> list[dict[str, Any]]:
    """The rows of the first entry (seq 1) of each of many new cases' chains, hashed.

    The hashes are those `append` computes, so the chains verify as any other; only the
    per-entry lookup of the previous entry is skipped, as a new case has none. The actor is
    named as text: a bulk import is done by an operator at the command line, not by a token.
    Write them with `HistoryRepository.add_many`, in the cases' transaction.
    """
    rows = []
    for e in entries:
        row: dict[str, Any] = {
            "case_id": e.case_id,
            "seq": 1,
            "action": e.action,
            "from_state": None,
            "to_state": e.to_state,
            "actor_org": actor_org,
            "actor_role": actor_role,
            "at": e.at,
            "comment": None,
            "reason": None,
            "fields": e.fields,
            "prev_hash": GENESIS,
        }
        row["hash"] = content_hash(row_content(row), GENESIS)
        rows.append(row)
    return rows


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
    actor_user_id: int | None
    actor_user_name: str | None
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
                actor_user_id=entry.actor_user_id,
                actor_user_name=entry.actor_user_name,
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
