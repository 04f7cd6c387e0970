"""Garbage collection of the document store: objects no row names, stale staging leftovers.

The same on either store (a local directory, an S3 bucket) and from any number of hosts at
once. An upload is staged (a `tmp/*.part` file, or a staging object or multipart upload),
then, in the transaction that records it, given its content address. A process killed in
between leaves a staging leftover, or a stored object that no `documents` row names. Neither
is ever read again, so both may go once they are older than `min_age`.

**Staging leftovers** are judged by age alone: an upload in flight keeps writing to its
staging file (or sends its next part), and a staged upload is committed within its request,
so `min_age` must exceed the longest time an upload may stay idle or a request may take (the
default, an hour, does). Were it shorter, the upload would fail; no row would be harmed.

**Stored objects** are protected by the database, which every host shares: a transaction
writes (flushes) the `documents` row that names an object *before* it puts the object at its
content address (`documents.service.record_document`), so the reference exists before the
object does. The collector scans the store without holding anything, keeps the candidates no
row names, then re-checks them and deletes them while it holds the `documents` table against
writers (SHARE lock on PostgreSQL; SQLite's write lock). A transaction that has written a
row is waited for, and its row seen; one that has not yet written its row waits for the
collector, and then, finding the object gone, puts it back from its staging copy. So no
committed row ever names an object the collector removed, whichever host either runs on.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from app.core.db import unit_of_work
from app.documents.models import Document
from app.storage.base import SHA256_NAME, DocumentStore, EntryKind, StoreEntry

__all__ = ["SHA256_NAME", "Collection", "Garbage", "Kind", "collect"]

# Bound on the parameters of one `IN (...)` query (SQLite allows 32766, PostgreSQL 65535),
# and on the objects deleted while writers of documents wait.
QUERY_BATCH = 500

T = TypeVar("T")


class Kind(StrEnum):
    UNREFERENCED = "unreferenced"
    STAGING = "staging"


@dataclass(frozen=True)
class Garbage:
    entry: StoreEntry
    kind: Kind

    @property
    def location(self) -> str:
        return self.entry.location

    @property
    def size(self) -> int:
        return self.entry.size


@dataclass
class Collection:
    """What one run removed, or with `dry_run` would remove."""

    dry_run: bool
    files: list[Garbage] = field(default_factory=list)

    def count(self, kind: Kind) -> int:
        return sum(1 for f in self.files if f.kind is kind)

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.files)

    def summary(self) -> str:
        unreferenced, staging = self.count(Kind.UNREFERENCED), self.count(Kind.STAGING)
        verb = "would remove" if self.dry_run else "removed"
        return (
            f"{verb} {unreferenced + staging} files ({unreferenced} unreferenced, "
            f"{staging} staging), {self.bytes} bytes"
        )


def collect(
    engine: Engine, store: DocumentStore, *, min_age: float, now: datetime, dry_run: bool = False
) -> Collection:
    """Remove (or list) what is garbage at `now`; files must be untouched for `min_age` seconds."""
    cutoff = time.time() - min_age
    result = Collection(dry_run=dry_run)
    staging = [Garbage(e, Kind.STAGING) for e in store.scan(EntryKind.STAGING) if e.mtime <= cutoff]
    stored = [Garbage(e, Kind.UNREFERENCED) for e in store.scan(EntryKind.OBJECT)]
    stored = [g for g in stored if g.entry.mtime <= cutoff]
    with unit_of_work(engine, write=False) as session:
        unreferenced = _unreferenced(session, stored)
    if dry_run:
        result.files = unreferenced + staging
        return result
    result.files = [g for g in staging if store.remove(g.entry, cutoff)]
    for batch in _batches(unreferenced, QUERY_BATCH):
        with unit_of_work(engine, write=True) as session:
            _hold_writers(session)
            result.files += [
                g for g in _unreferenced(session, batch) if store.remove(g.entry, cutoff)
            ]
    return result


def _hold_writers(session: Session) -> None:
    """Wait for the transactions that wrote a document row, and keep new ones out until
    this one ends.

    On SQLite the unit of work began with BEGIN IMMEDIATE: its first statement takes the
    database's write lock, which every writer holds until it commits.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE documents IN SHARE MODE"))


def _unreferenced(session: Session, found: list[Garbage]) -> list[Garbage]:
    referenced: set[str] = set()
    for batch in _batches([g.entry.sha256 for g in found], QUERY_BATCH):
        referenced.update(
            session.scalars(select(Document.sha256).where(Document.sha256.in_(batch)).distinct())
        )
    return [g for g in found if g.entry.sha256 not in referenced]


def _batches(items: list[T], size: int) -> Iterable[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
