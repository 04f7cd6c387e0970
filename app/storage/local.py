"""Content-addressed file store in a local directory: each file lives once, at a path derived
from its SHA-256 (`<root>/ab/cd/abcd…`), staged first under `<root>/tmp/*.part`."""

import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from app.storage.base import (
    READ_CHUNK,
    SHA256_NAME,
    DocumentStore,
    EntryKind,
    StagedFile,
    StagingWriter,
    StoredContent,
    StoreEntry,
)

__all__ = ["LocalStore", "StagedFile", "StagingWriter"]

SHARD = re.compile(r"[0-9a-f]{2}")


class LocalStagingWriter(StagingWriter):
    """Streams one upload into a `.part` file (every write touches it: `admission gc` spares
    a file written to within `--min-age`)."""

    def __init__(self, store: "LocalStore", limit: int) -> None:
        self.limit = limit
        self.path = store.tmp_dir / f"{uuid.uuid4().hex}.part"
        self._file = self.path.open("wb")
        self._hash = hashlib.sha256()
        self._size = 0
        self._head = b""

    def write(self, chunk: bytes) -> None:
        self._count(chunk)
        self._file.write(chunk)

    def finish(self) -> StagedFile:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return StagedFile(str(self.path), self._size, self._hash.hexdigest(), self._head)

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)


class LocalContent(StoredContent):
    def __init__(self, path: Path, size: int) -> None:
        self.path = self._file = path
        self.size = size

    def chunks(self) -> Iterator[bytes]:
        with self._file.open("rb") as file:
            while chunk := file.read(READ_CHUNK):
                yield chunk

    def close(self) -> None:
        pass


class LocalStore(DocumentStore):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp_dir = root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def describe(self) -> str:
        return str(self.root)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def staging(self, limit: int) -> LocalStagingWriter:
        return LocalStagingWriter(self, limit)

    def open_staged(self, staged: StagedFile) -> BinaryIO:
        return Path(staged.key).open("rb")

    def commit(self, staged: StagedFile) -> Path:
        """Move a staged file to its content address (a no-op if those bytes are already stored).

        The bytes were hashed as they were written and fsynced by `finish`; the move is made
        durable before returning: the caller's transaction commits next, and a row must never
        outlive, after a power loss, the directory entry of its file.
        """
        final = self.path_for(staged.sha256)
        staging = Path(staged.key)
        if final.exists():
            staging.unlink(missing_ok=True)
            # Reused bytes count as new for `admission gc`, whose --min-age spares young files.
            os.utime(final)
            staged.placed = True
            return final
        self._make_dirs(final.parent)
        os.replace(staging, final)
        _fsync_dir(final.parent)
        staged.placed = True
        return final

    def discard(self, staged: StagedFile) -> None:
        if not staged.placed:
            Path(staged.key).unlink(missing_ok=True)

    def _make_dirs(self, directory: Path) -> None:
        missing = []
        while not directory.is_dir():
            missing.append(directory)
            directory = directory.parent
        for made in reversed(missing):
            made.mkdir(exist_ok=True)
            _fsync_dir(made.parent)

    def open(self, sha256: str) -> LocalContent | None:
        path = self.path_for(sha256)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return None
        return LocalContent(path, size) if path.is_file() else None

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def verify(self, sha256: str, size: int) -> bool:
        content = self.open(sha256)
        if content is None or content.size != size:
            return False
        digest = hashlib.sha256()
        for chunk in content.chunks():
            digest.update(chunk)
        return digest.hexdigest() == sha256

    # -- what `admission gc` looks at ---------------------------------------------------

    def scan(self, kind: EntryKind) -> Iterator[StoreEntry]:
        if kind is EntryKind.STAGING:
            for entry in _scan(self.tmp_dir):
                if entry.is_file(follow_symlinks=False) and entry.name.endswith(".part"):
                    yield from _entry(entry, kind)
            return
        # Files at a content address `<root>/ab/cd/abcd…`; anything else is not ours to judge.
        for first in _scan(self.root):
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
                        yield from _entry(entry, kind, sha256=entry.name)

    def remove(self, entry: StoreEntry, cutoff: float) -> bool:
        path = Path(entry.location)
        try:
            if path.lstat().st_mtime > cutoff:
                return False
            path.unlink()
        except FileNotFoundError:
            return False
        return True


def _scan(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            return list(entries)
    except FileNotFoundError:
        return []


def _entry(entry: os.DirEntry[str], kind: EntryKind, sha256: str = "") -> Iterator[StoreEntry]:
    try:
        stat = entry.stat(follow_symlinks=False)
    except FileNotFoundError:  # an upload finished (or was discarded) meanwhile
        return
    yield StoreEntry(kind, entry.path, stat.st_size, stat.st_mtime, sha256=sha256)


def _fsync_dir(directory: Path) -> None:
    """Flush a directory's entries (a file created, renamed into or removed from it)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
