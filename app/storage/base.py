"""The document store's interface: what every store (a local directory, an S3 bucket) offers.

Bytes are content-addressed: a stored object is named by the SHA-256 of its bytes. An upload
is first *staged* (streamed into the store under a temporary name, hashed as it arrives,
never held whole in memory), then, once the transaction has written the row that names it,
*committed*: given its content address and verified against its hash. Only then does the
transaction commit, so that a committed row never names a missing object. A staged file that
never gets committed (a refused upload, a process killed mid-way) is discarded, or left for
`admission gc` (`app.documents.gc`), which asks the store for its leftovers.
"""

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from app.core.errors import TooLarge

SHA256_NAME = re.compile(r"[0-9a-f]{64}")
# First bytes of a staged file kept for content sniffing (magic numbers).
HEAD_BYTES = 16
# Size of the pieces in which stored bytes are read back (downloads, hashing, copies).
READ_CHUNK = 256 * 1024


@dataclass
class StagedFile:
    """Bytes written to the store under a temporary name (`key`: a path, or an object key),
    not yet given their final place; `placed` once `commit` has moved them."""

    key: str
    size: int
    sha256: str
    head: bytes
    placed: bool = field(default=False, compare=False)


class StagingWriter(ABC):
    """Receives a file in chunks, hashing as it goes and refusing more than its limit."""

    limit: int
    _hash: "hashlib._Hash"
    _size: int
    _head: bytes

    @abstractmethod
    def write(self, chunk: bytes) -> None: ...

    def _count(self, chunk: bytes) -> None:
        """Size, head and hash of what is written; past the limit, discard and refuse."""
        self._size += len(chunk)
        if self._size > self.limit:
            self.discard()
            raise TooLarge(f"the file exceeds the {self.limit}-byte limit", {"limit": self.limit})
        if len(self._head) < HEAD_BYTES:
            self._head += chunk[: HEAD_BYTES - len(self._head)]
        self._hash.update(chunk)

    @abstractmethod
    def finish(self) -> StagedFile:
        """Everything written is durable in the store (not yet at its content address)."""

    @abstractmethod
    def discard(self) -> None:
        """Forget what was written so far (idempotent)."""


class EntryKind(StrEnum):
    # An object at a content address.
    OBJECT = "object"
    # A staging file, or an upload to the store that never finished.
    STAGING = "staging"


@dataclass(frozen=True)
class StoreEntry:
    """One thing found in the store by a scan, as `admission gc` judges it."""

    kind: EntryKind
    # Where it is: a path, or an object key (what an operator is shown).
    location: str
    size: int
    # Last written, in seconds since the epoch.
    mtime: float
    # The content address of an OBJECT entry.
    sha256: str = ""
    # An S3 multipart upload that was never completed.
    upload_id: str = ""


class StoredContent(ABC):
    """A stored object opened for reading, streamed in chunks, never read whole."""

    size: int
    # A local file can be served as such (sendfile, ranges); None for a remote object.
    path: Path | None = None

    @abstractmethod
    def chunks(self) -> Iterator[bytes]:
        """The bytes, in order; closes the object once they are all read."""

    @abstractmethod
    def close(self) -> None: ...


class DocumentStore(ABC):
    """Where documents' bytes live; see the module's docstring for the guarantees."""

    # Whether writing a chunk may wait on the network: the upload's parser then runs off
    # the event loop.
    blocking_writes: bool = False

    @abstractmethod
    def describe(self) -> str:
        """Where the store is, for operators (a directory, `s3://bucket/prefix`)."""

    @abstractmethod
    def staging(self, limit: int) -> StagingWriter:
        """A writer for one upload of at most `limit` bytes."""

    def stage_bytes(self, data: bytes) -> StagedFile:
        """Stage bytes produced by the service itself (letters, demo files); `commit` places
        them once their row is written."""
        writer = self.staging(limit=len(data))
        writer.write(data)
        return writer.finish()

    @abstractmethod
    def open_staged(self, staged: StagedFile) -> BinaryIO:
        """The staged bytes as a seekable binary file (to look inside an archive)."""

    @abstractmethod
    def commit(self, staged: StagedFile) -> Path | str:
        """Give staged bytes their content address, verified against their SHA-256, and
        return where they are (a no-op if those bytes are stored already). Call it only
        after the row that names the object is written (flushed) in the transaction: see
        `app.documents.gc` for why."""

    @abstractmethod
    def discard(self, staged: StagedFile) -> None:
        """Remove a staged file that will not be committed (nothing if it was)."""

    @abstractmethod
    def open(self, sha256: str) -> StoredContent | None:
        """The object stored under `sha256`, or None if it is missing."""

    @abstractmethod
    def has(self, sha256: str) -> bool: ...

    @abstractmethod
    def verify(self, sha256: str, size: int) -> bool:
        """Whether the object stored under `sha256` is there with `size` bytes that hash to
        its name (without downloading it, where the store keeps the SHA-256 itself)."""

    @abstractmethod
    def scan(self, kind: EntryKind) -> Iterator[StoreEntry]:
        """Every object at a content address, or every staging leftover; anything else
        found in the store is not ours to judge and is not listed."""

    @abstractmethod
    def remove(self, entry: StoreEntry, cutoff: float) -> bool:
        """Delete what `entry` found unless it was written after `cutoff` (or went);
        whether it was deleted."""

    def close(self) -> None:  # noqa: B027 - a store with nothing to release needs no body
        """Release connections."""
