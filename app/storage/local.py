"""Content-addressed file store: each file lives once, at a path derived from its SHA-256."""

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import TooLarge


@dataclass(frozen=True)
class StagedFile:
    """Bytes written to a temporary file in the store, not yet given their final place."""

    path: Path
    size: int
    sha256: str
    head: bytes


class StagingWriter:
    """Receives a file in chunks, hashing as it goes and refusing more than `limit` bytes."""

    HEAD_BYTES = 16

    def __init__(self, store: "DocumentStore", limit: int) -> None:
        self.limit = limit
        self.path = store.tmp_dir / f"{uuid.uuid4().hex}.part"
        self._file = self.path.open("wb")
        self._hash = hashlib.sha256()
        self._size = 0
        self._head = b""

    def write(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self.limit:
            self.discard()
            raise TooLarge(f"the file exceeds the {self.limit}-byte limit", {"limit": self.limit})
        if len(self._head) < self.HEAD_BYTES:
            self._head += chunk[: self.HEAD_BYTES - len(self._head)]
        self._hash.update(chunk)
        self._file.write(chunk)

    def finish(self) -> StagedFile:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return StagedFile(self.path, self._size, self._hash.hexdigest(), self._head)

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)


class DocumentStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp_dir = root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def staging(self, limit: int) -> StagingWriter:
        return StagingWriter(self, limit)

    def commit(self, staged: StagedFile) -> Path:
        """Move a staged file to its content address (a no-op if those bytes are already stored).

        The move is made durable before returning: the caller's transaction commits next, and
        a row must never outlive, after a power loss, the directory entry of its file.
        """
        final = self.path_for(staged.sha256)
        if final.exists():
            staged.path.unlink(missing_ok=True)
            # Reused bytes count as new for `admission gc`, whose --min-age spares young files.
            os.utime(final)
            return final
        self._make_dirs(final.parent)
        os.replace(staged.path, final)
        _fsync_dir(final.parent)
        return final

    def _make_dirs(self, directory: Path) -> None:
        missing = []
        while not directory.is_dir():
            missing.append(directory)
            directory = directory.parent
        for made in reversed(missing):
            made.mkdir(exist_ok=True)
            _fsync_dir(made.parent)

    def stage_bytes(self, data: bytes) -> StagedFile:
        """Stage bytes produced by the service itself (letters, demo files); `commit` places
        them once their row is written."""
        writer = self.staging(limit=len(data))
        writer.write(data)
        return writer.finish()


def _fsync_dir(directory: Path) -> None:
    """Flush a directory's entries (a file created, renamed into or removed from it)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
