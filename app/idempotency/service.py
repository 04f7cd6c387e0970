"""Idempotency keys for POST requests, after the IETF httpapi "Idempotency-Key" draft.

A key belongs to the calling token's organisation. The first request with a key claims it
(a short transaction of its own), runs, and stores its response in the same transaction
as its changes. A retry with the same key and the same request gets that response again;
with another request, 422; while the first still runs, 409. A claim whose attempt died
(its lease ran out without a stored response) is taken over by the next retry: the dead
attempt's changes were never committed, because they commit only with the response.
"""

import hashlib
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.db import unit_of_work
from app.core.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from app.idempotency.models import IdempotencyKey
from app.idempotency.repository import IdempotencyKeyRepository

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
# 1 to 255 printable ASCII characters, neither the first nor the last a space (HTTP drops
# those from a header's value, so a key cannot keep them); the quotes of a structured-field
# string (`"..."`) are not part of the key. The OpenAPI document publishes this pattern,
# and every value it matches (within MAX_KEY_LENGTH) is a key.
KEY_PATTERN = "^[!-~](?:[ -~]*[!-~])?$"
_KEY = re.compile(KEY_PATTERN)
# Response headers worth giving back on a replay; the rest belong to the moment.
REPLAYED_HEADERS = frozenset({"content-type", "etag", "location", "retry-after"})


def parse_key(raw: str) -> str | None:
    """The key from the header (a structured-field string; bare tokens accepted too), or
    None if it is not a usable key."""
    if len(raw) > MAX_KEY_LENGTH or _KEY.fullmatch(raw) is None:
        return None
    if len(raw) > 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1]
    return raw


class Fingerprint:
    """SHA-256 of what makes two requests "the same": method, path, query and body.

    A multipart body is hashed with its boundary blanked out: a client that retries an
    upload usually draws a new boundary, and the retry is still the same request.
    """

    def __init__(self, method: str, path: str, query: bytes, boundary: bytes | None) -> None:
        self._hash = hashlib.sha256()
        for part in (method.encode(), path.encode(), query):
            self._hash.update(len(part).to_bytes(8, "big") + part)
        self._delimiter = b"--" + boundary if boundary else b""
        self._pending = b""

    def update(self, chunk: bytes) -> None:
        if not self._delimiter:
            self._hash.update(chunk)
            return
        pieces = (self._pending + chunk).split(self._delimiter)
        for piece in pieces[:-1]:
            self._hash.update(piece)
            self._hash.update(b"\x00--boundary--\x00")
        # A delimiter may straddle this chunk and the next: keep back what could start one.
        tail = pieces[-1]
        keep = len(self._delimiter) - 1
        self._hash.update(tail[: max(len(tail) - keep, 0)])
        self._pending = tail[max(len(tail) - keep, 0) :]

    def hexdigest(self) -> str:
        self._hash.update(self._pending)
        self._pending = b""
        return self._hash.hexdigest()


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @classmethod
    def of(cls, row: IdempotencyKey) -> "StoredResponse":
        headers = [(str(k), str(v)) for k, v in row.response_headers.get("items", [])]
        return cls(row.status_code or 500, headers, row.response_body or b"")

    def columns(self, now: datetime) -> dict[str, object]:
        kept = [[k, v] for k, v in self.headers if k.lower() in REPLAYED_HEADERS]
        return {
            "completed_at": now,
            "status_code": self.status,
            "response_headers": {"items": kept},
            "response_body": self.body,
        }


@dataclass(frozen=True)
class Request:
    organisation_id: int
    key: str
    fingerprint: str
    method: str
    path: str


@dataclass(frozen=True)
class Claim:
    """This attempt holds the key: run the request, then `complete` or `release`."""

    row_id: int
    attempt: uuid.UUID = field(default_factory=uuid.uuid4)


def claim(
    engine: Engine, request: Request, now: datetime, *, ttl: timedelta, lease: timedelta
) -> Claim | StoredResponse:
    """Claim the key for a new attempt, or return the stored response of the first one.

    Raises IdempotencyKeyReused for another request under the same key, and
    IdempotencyKeyInUse while an attempt holds it.
    """
    for _ in range(3):
        try:
            with unit_of_work(engine) as session:
                return _claim(session, request, now, ttl=ttl, lease=lease)
        except IntegrityError:
            # Another attempt inserted the same key between our look and our insert:
            # look again, now that its row exists.
            continue
    raise IdempotencyKeyInUse("the key is being claimed by another request; retry shortly", 1)


def _claim(
    session: Session, request: Request, now: datetime, *, ttl: timedelta, lease: timedelta
) -> Claim | StoredResponse:
    repo = IdempotencyKeyRepository(session)
    row = repo.get_for_update(request.organisation_id, request.key)
    attempt = uuid.uuid4()
    if row is None:
        row = repo.add(
            IdempotencyKey(
                organisation_id=request.organisation_id,
                key=request.key,
                fingerprint=request.fingerprint,
                method=request.method,
                path=request.path,
                attempt=attempt,
                locked_until=now + lease,
                created_at=now,
                expires_at=now + ttl,
                response_headers={},
            )
        )
        return Claim(row.id, attempt)
    if row.expires_at <= now and (row.locked_until is None or row.locked_until <= now):
        # An expired key is free again: this is a new request that happens to reuse it.
        row.fingerprint, row.method, row.path = request.fingerprint, request.method, request.path
        row.created_at, row.expires_at = now, now + ttl
        row.completed_at = row.status_code = row.response_body = None
        row.response_headers = {}
    elif row.fingerprint != request.fingerprint:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used for a different request",
            {"key": request.key, "first_request": f"{row.method} {row.path}"},
        )
    elif row.completed_at is not None:
        return StoredResponse.of(row)
    elif row.locked_until is not None and row.locked_until > now:
        wait = max(1, math.ceil((row.locked_until - now).total_seconds()))
        raise IdempotencyKeyInUse(
            "a request with this Idempotency-Key is still being processed", wait
        )
    # Free, or held by an attempt whose lease ran out without finishing: take it.
    row.attempt, row.locked_until = attempt, now + lease
    session.flush()
    return Claim(row.id, attempt)


def complete(session: Session, claimed: Claim, response: StoredResponse, now: datetime) -> bool:
    """Store the response in the request's own transaction. False if the attempt lost the
    key meanwhile (its lease ran out and a retry took over): then nothing may commit."""
    repo = IdempotencyKeyRepository(session)
    return repo.complete(claimed.row_id, claimed.attempt, response.columns(now))


def record_refusal(engine: Engine, claimed: Claim, response: StoredResponse, now: datetime) -> None:
    """Store a refusal (4xx), whose request changed nothing, so that a retry gets it again."""
    with unit_of_work(engine) as session:
        complete(session, claimed, response, now)


def release(engine: Engine, claimed: Claim) -> None:
    """Give the key up after a server error: nothing was committed, so a retry runs anew."""
    with unit_of_work(engine) as session:
        IdempotencyKeyRepository(session).release(claimed.row_id, claimed.attempt)


def delete_expired(session: Session, now: datetime, *, dry_run: bool = False) -> int:
    """Forget the keys past their expiry (`admission gc`); with `dry_run`, count them."""
    repo = IdempotencyKeyRepository(session)
    return repo.count_expired(now) if dry_run else repo.delete_expired(now)
