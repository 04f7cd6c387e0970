"""Hash chaining of audit entries: each hash covers the entry's content and the previous hash."""

import hashlib
import json
from typing import Any

from app.history.models import AuditEntry

GENESIS = "0" * 64


def entry_content(entry: AuditEntry) -> dict[str, Any]:
    return {
        "case_id": str(entry.case_id),
        "seq": entry.seq,
        "action": entry.action,
        "from_state": entry.from_state,
        "to_state": entry.to_state,
        "actor_org": entry.actor_org,
        "actor_role": entry.actor_role,
        "at": entry.at.isoformat(),
        "comment": entry.comment,
        "reason": entry.reason,
        "fields": entry.fields or {},
    }


def compute_hash(entry: AuditEntry, prev_hash: str) -> str:
    canonical = json.dumps(
        {"content": entry_content(entry), "prev_hash": prev_hash},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def first_broken_seq(entries: list[AuditEntry]) -> int | None:
    """The sequence number of the first entry that does not link up, or None.

    This sees changed, reordered and removed entries, except the newest ones: a chain cut
    short still links up. `first_bad_seq` compares it with the case's recorded head too.
    """
    prev_hash = GENESIS
    for expected_seq, entry in enumerate(entries, start=1):
        if (
            entry.seq != expected_seq
            or entry.prev_hash != prev_hash
            or entry.hash != compute_hash(entry, prev_hash)
        ):
            return entry.seq
        prev_hash = entry.hash
    return None


def first_bad_seq(entries: list[AuditEntry], head_seq: int, head_hash: str) -> int | None:
    """The first entry that does not verify against the chain and the case's recorded head
    (its newest seq and hash), or None when the history is whole."""
    broken = first_broken_seq(entries)
    if broken is not None:
        return broken
    if len(entries) < head_seq:
        return len(entries) + 1  # the newest entries are gone
    if len(entries) > head_seq:
        return head_seq + 1  # entries the case never recorded
    if entries and entries[-1].hash != head_hash:
        return entries[-1].seq  # the chain was rebuilt under a new head
    return None
