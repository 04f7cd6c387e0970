"""Hash chaining of audit entries: each hash covers the entry's content and the previous hash."""

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from app.history.models import AuditEntry

GENESIS = "0" * 64


# The columns of an entry its hash covers.
CHAINED_COLUMNS = (
    "case_id",
    "seq",
    "action",
    "from_state",
    "to_state",
    "actor_org",
    "actor_role",
    "actor_user_id",
    "actor_user_name",
    "at",
    "comment",
    "reason",
    "fields",
)


def row_content(row: Mapping[str, Any]) -> dict[str, Any]:
    """What an entry's hash covers, from its column values (an entry or a row to insert).

    The person who acted is covered when one did; an entry made by an organisation's token
    (and every entry written before people were named) hashes as it always has."""
    content = {
        "case_id": str(row["case_id"]),
        "seq": row["seq"],
        "action": row["action"],
        "from_state": row["from_state"],
        "to_state": row["to_state"],
        "actor_org": row["actor_org"],
        "actor_role": row["actor_role"],
        "at": row["at"].isoformat(),
        "comment": row["comment"],
        "reason": row["reason"],
        "fields": row["fields"] or {},
    }
    if row.get("actor_user_id") is not None:
        content["actor_user"] = {"id": row["actor_user_id"], "name": row.get("actor_user_name")}
    return content


def entry_content(entry: AuditEntry) -> dict[str, Any]:
    return row_content({name: getattr(entry, name) for name in CHAINED_COLUMNS})


def content_hash(content: dict[str, Any], prev_hash: str) -> str:
    canonical = json.dumps(
        {"content": content, "prev_hash": prev_hash},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def compute_hash(entry: AuditEntry, prev_hash: str) -> str:
    return content_hash(entry_content(entry), prev_hash)


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
