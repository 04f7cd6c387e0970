"""Garbage collection of the document store: files no row references, stale staging files.

An upload is streamed into `tmp/*.part`, moved to its content address and recorded in the
same transaction; a process killed in between leaves a staging file, or a stored file that
no `documents` row names. Neither is ever read again, so both may go once they are older
than `min_age` (an upload still streaming keeps touching its staging file).

Deleting a stored file races with a transaction about to reference it. The collector decides
in two steps: it scans without holding anything, then re-checks its candidates, and deletes
them, while keeping every writer of a case out (SQLite's write lock; on PostgreSQL a SHARE
lock on `cases`). A transaction puts a file in the store only after it has written its
case's row (an upload moves the case to its next version first; a letter is issued by a
transition), so either the collector waits for it to end and sees its document row, or it
waits for the collector and puts the file back.
"""

import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from app.core.db import unit_of_work
from app.documents.models import Document
from app.storage.local import DocumentStore

SHA256_NAME = re.compile(r"[0-9a-f]{64}")
SHARD = re.compile(r"[0-9a-f]{2}")
# Bound on the parameters of one `IN (...)` query (SQLite allows 32766, PostgreSQL 65535).
QUERY_BATCH = 500


class Kind(StrEnum):
    UNREFERENCED = "unreferenced"
    STAGING = "staging"


@dataclass(frozen=True)
class Garbage:
    path: Path
    kind: Kind
    size: int
    mtime: float


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
    staging = [g for g in _staging_files(store) if g.mtime <= cutoff]
    stored = [g for g in _stored_files(store) if g.mtime <= cutoff]
    with unit_of_work(engine, write=False) as session:
        unreferenced = _unreferenced(session, stored)
    if dry_run:
        result.files = unreferenced + staging
        return result
    result.files = [g for g in staging if _remove(g, cutoff)]
    if unreferenced:
        with unit_of_work(engine, write=True) as session:
            _hold_writers(session)
            result.files += [g for g in _unreferenced(session, unreferenced) if _remove(g, cutoff)]
    return result


def _hold_writers(session: Session) -> None:
    """Wait for the transactions that wrote a case, and keep new ones out until this ends.

    On SQLite the unit of work began with BEGIN IMMEDIATE: its first statement takes the
    database's write lock, which every writer holds until it commits.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE cases IN SHARE MODE"))


def _unreferenced(session: Session, files: list[Garbage]) -> list[Garbage]:
    referenced: set[str] = set()
    for batch in _batches([g.path.name for g in files], QUERY_BATCH):
        referenced.update(
            session.scalars(select(Document.sha256).where(Document.sha256.in_(batch)).distinct())
        )
    return [g for g in files if g.path.name not in referenced]


def _remove(garbage: Garbage, cutoff: float) -> bool:
    """Delete the file unless it changed or went since it was found; whether it was deleted."""
    try:
        stat = garbage.path.lstat()
        if stat.st_mtime > cutoff:
            return False
        garbage.path.unlink()
    except FileNotFoundError:
        return False
    return True


def _staging_files(store: DocumentStore) -> Iterator[Garbage]:
    for entry in _scan(store.tmp_dir):
        if entry.is_file(follow_symlinks=False) and entry.name.endswith(".part"):
            yield from _garbage(entry, Kind.STAGING)


def _stored_files(store: DocumentStore) -> Iterator[Garbage]:
    """Files at a content address `<root>/ab/cd/abcd…`; anything else is not ours to judge."""
    for first in _scan(store.root):
        if not (first.is_dir(follow_symlinks=False) and SHARD.fullmatch(first.name)):
            continue
        for second in _scan(Path(first.path)):
            if not (second.is_dir(follow_symlinks=False) and SHARD.fullmatch(second.name)):
                continue
            prefix = first.name + second.name
            for entry in _scan(Path(second.path)):
                if (
                    entry.is_file(follow_symlinks=False)
                    and SHA256_NAME.fullmatch(entry.name)
                    and entry.name.startswith(prefix)
                ):
                    yield from _garbage(entry, Kind.UNREFERENCED)


def _scan(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            return list(entries)
    except FileNotFoundError:
        return []


def _garbage(entry: os.DirEntry[str], kind: Kind) -> Iterator[Garbage]:
    try:
        stat = entry.stat(follow_symlinks=False)
    except FileNotFoundError:  # an upload finished (or was discarded) meanwhile
        return
    yield Garbage(Path(entry.path), kind, stat.st_size, stat.st_mtime)


def _batches(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
