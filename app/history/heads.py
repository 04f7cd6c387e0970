"""Signed exports of every case's chain head, so that rewriting a whole chain is detectable.

A chain proves that no single entry changed after the fact, but someone able to rewrite the
table can recompute every hash. Exporting the head (last seq and hash) of each case, signed
with HMAC-SHA256 under a key kept outside the database, pins the history up to that point:
`verify_heads` later checks that each case still has that entry with that hash (the chain
may have grown since) and that the chain still verifies.
"""

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.core.errors import BadExport
from app.history.chain import first_bad_seq
from app.history.repository import HistoryRepository

FORMAT = "qtsc-admission-audit-heads/1"


@dataclass(frozen=True)
class CaseCheck:
    case_id: uuid.UUID
    entries: int
    first_bad_seq: int | None

    @property
    def valid(self) -> bool:
        return self.first_bad_seq is None


def check_all(session: Session) -> Iterator[CaseCheck]:
    """Verify every case's chain against its recorded head, one case at a time (memory stays
    one case's history)."""
    repo = HistoryRepository(session)
    for head in repo.heads():
        entries = repo.for_case(head.case_id)
        yield CaseCheck(head.case_id, len(entries), first_bad_seq(entries, head.seq, head.hash))
        session.expunge_all()


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(payload: dict[str, Any], key: bytes) -> str:
    return hmac.new(key, _canonical(payload), hashlib.sha256).hexdigest()


def export_heads(session: Session, key: bytes, now: datetime) -> dict[str, Any]:
    heads = [
        {"case_id": str(head.case_id), "seq": head.seq, "hash": head.hash}
        for head in HistoryRepository(session).heads()
        if head.seq > 0
    ]
    payload = {"format": FORMAT, "exported_at": now.isoformat(), "heads": heads}
    return {**payload, "signature": sign(payload, key)}


@dataclass(frozen=True)
class HeadProblem:
    case_id: str
    seq: int | None
    problem: str


def verify_heads(session: Session, export: dict[str, Any], key: bytes) -> list[HeadProblem]:
    """Problems found comparing the database with a signed export; empty when all is well."""
    try:
        payload = {k: export[k] for k in ("format", "exported_at", "heads")}
        signature = str(export["signature"])
    except (KeyError, TypeError):
        raise BadExport("not an audit heads export") from None
    if payload["format"] != FORMAT:
        raise BadExport(f"unknown format {payload['format']!r}")
    if not hmac.compare_digest(sign(payload, key), signature):
        raise BadExport("the signature does not match: wrong key, or the export was altered")
    repo = HistoryRepository(session)
    problems: list[HeadProblem] = []
    for head in payload["heads"]:
        case_id, seq, expected = head["case_id"], int(head["seq"]), head["hash"]
        entries = repo.for_case(uuid.UUID(case_id))
        # The case's row goes only with its history (foreign key): no head, no entries.
        current = repo.head(uuid.UUID(case_id))
        broken = first_bad_seq(entries, current.seq, current.hash) if current else None
        if broken is not None:
            problems.append(HeadProblem(case_id, broken, "the chain does not verify"))
        elif len(entries) < seq:
            problems.append(HeadProblem(case_id, len(entries) + 1, "entries exported are gone"))
        elif entries[seq - 1].hash != expected:
            problems.append(HeadProblem(case_id, seq, "the history was rewritten"))
        session.expunge_all()
    return problems
