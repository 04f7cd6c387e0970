"""Content-addressed store in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, ...).

Layout under the store's prefix, the same as the local store's directory:
`ab/cd/<sha256>` for stored objects, `tmp/<ms since epoch>-<random>.part` for staging ones.

- **Upload.** The bytes are hashed as they arrive and sent on in parts of `part_bytes`
  (at most one part is held in memory): a file that fits one part is one `PutObject`, a
  larger one a multipart upload, created when its first part is full. Each request carries
  the SHA-256 of what it sends, which the store checks on arrival.
- **Commit.** `CopyObject` from the staging key to the content address, asking the store to
  compute the SHA-256 of the copy; it must equal the name (where a store does not answer
  with one, the copy is read back and hashed). Then the staging object is deleted. Bytes
  already stored are reused after a `HeadObject`.
- **Leftovers.** Staging keys carry the time they were started, because stores do not agree
  on a multipart upload's `Initiated` time; an unfinished upload's age is that of its newest
  part. `admission gc` aborts or deletes what is older than `--min-age`.
"""

import base64
import binascii
import hashlib
import io
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from botocore.exceptions import BotoCoreError, ClientError

from app.core.errors import StorageIntegrityError, StorageUnavailable, TooLarge
from app.storage.base import (
    READ_CHUNK,
    DocumentStore,
    EntryKind,
    StagedFile,
    StagingWriter,
    StoredContent,
    StoreEntry,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# S3's bounds on parts: at least 5 MiB (except the last), at most 10,000 of them.
MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PARTS = 10_000
# CopyObject copies at most 5 GiB in one request; beyond it, a multipart copy.
COPY_OBJECT_LIMIT = 5 * 1024**3
STAGING_NAME = re.compile(r"(\d{13})-[0-9a-f]{32}\.part")
MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in MISSING


@contextmanager
def _answered(operation: str) -> Iterator[None]:
    """The store's failures as a 503 (the request changed nothing and may be retried)."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise StorageUnavailable(
            f"the document store refused to {operation}",
            {"store_error": error.get("Code", "unknown")},
        ) from exc
    except BotoCoreError as exc:
        raise StorageUnavailable(
            f"the document store could not {operation}", {"store_error": type(exc).__name__}
        ) from exc


class S3StagingWriter(StagingWriter):
    def __init__(self, store: "S3Store", limit: int) -> None:
        self.store = store
        self.limit = limit
        self.key = store.new_staging_key()
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._upload_id: str | None = None
        self._hash = hashlib.sha256()
        self._size = 0
        self._head = b""
        self._finished = False

    def write(self, chunk: bytes) -> None:
        self._count(chunk)
        self._buffer += chunk
        part = self.store.part_bytes
        while len(self._buffer) >= part:
            data = bytes(self._buffer[:part])
            del self._buffer[:part]
            self._send_part(data)

    def _send_part(self, data: bytes) -> None:
        client, bucket = self.store.client, self.store.bucket
        if len(self._parts) >= MAX_PARTS:
            raise TooLarge("the file has more parts than the document store accepts")
        with _answered("store an upload"):
            if self._upload_id is None:
                created = client.create_multipart_upload(
                    Bucket=bucket, Key=self.key, ChecksumAlgorithm="SHA256"
                )
                self._upload_id = created["UploadId"]
            number = len(self._parts) + 1
            checksum = _b64(hashlib.sha256(data).digest())
            sent = client.upload_part(
                Bucket=bucket,
                Key=self.key,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=data,
                ChecksumSHA256=checksum,
            )
        self._parts.append({"PartNumber": number, "ETag": sent["ETag"], "ChecksumSHA256": checksum})

    def finish(self) -> StagedFile:
        client, bucket = self.store.client, self.store.bucket
        digest = self._hash.digest()
        if self._upload_id is None:
            with _answered("store an upload"):
                client.put_object(
                    Bucket=bucket,
                    Key=self.key,
                    Body=bytes(self._buffer),
                    ChecksumSHA256=_b64(digest),
                )
        else:
            if self._buffer or not self._parts:
                self._send_part(bytes(self._buffer))
            with _answered("store an upload"):
                client.complete_multipart_upload(
                    Bucket=bucket,
                    Key=self.key,
                    UploadId=self._upload_id,
                    MultipartUpload={"Parts": self._parts},  # type: ignore[typeddict-item]
                )
        self._buffer = bytearray()
        self._finished = True
        return StagedFile(self.key, self._size, digest.hex(), self._head)

    def discard(self) -> None:
        """Abort the multipart upload, or delete the staging object (best effort: what is
        left is `admission gc`'s)."""
        self._buffer = bytearray()
        try:
            if self._upload_id is not None and not self._finished:
                self.store.client.abort_multipart_upload(
                    Bucket=self.store.bucket, Key=self.key, UploadId=self._upload_id
                )
            elif self._finished:
                self.store.client.delete_object(Bucket=self.store.bucket, Key=self.key)
        except (BotoCoreError, ClientError):
            pass
        self._upload_id = None


class RangeReader(io.RawIOBase):
    """A stored object as a seekable file, each read a ranged GET (to look inside a ZIP
    archive: its central directory is at the end)."""

    def __init__(self, client: "S3Client", bucket: str, key: str, size: int) -> None:
        self.client, self.bucket, self.key, self.size = client, bucket, key, size
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self.position = base + offset
        return self.position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self.position >= self.size or not len(view):
            return 0
        last = min(self.position + len(view), self.size) - 1
        # A failure of the store is a 503, not a broken archive.
        with _answered("read an upload"):
            body = self.client.get_object(
                Bucket=self.bucket, Key=self.key, Range=f"bytes={self.position}-{last}"
            )["Body"]
            data = body.read()
        view[: len(data)] = data
        self.position += len(data)
        return len(data)


class S3Content(StoredContent):
    def __init__(self, body: Any, size: int) -> None:
        self.body = body
        self.size = size

    def chunks(self) -> Iterator[bytes]:
        try:
            yield from self.body.iter_chunks(READ_CHUNK)
        finally:
            self.body.close()

    def close(self) -> None:
        self.body.close()


class S3Store(DocumentStore):
    blocking_writes = True

    def __init__(
        self, client: "S3Client", bucket: str, prefix: str = "", part_bytes: int = 8 * 1024**2
    ) -> None:
        if part_bytes < MIN_PART_BYTES:
            raise ValueError(f"parts must be at least {MIN_PART_BYTES} bytes")
        self.client = client
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.part_bytes = part_bytes
        self._objects = re.compile(
            re.escape(self.prefix) + r"([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})"
        )

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def key_for(self, sha256: str) -> str:
        return f"{self.prefix}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    @property
    def staging_prefix(self) -> str:
        return f"{self.prefix}tmp/"

    def new_staging_key(self) -> str:
        return f"{self.staging_prefix}{int(time.time() * 1000):013d}-{uuid.uuid4().hex}.part"

    def staging(self, limit: int) -> S3StagingWriter:
        return S3StagingWriter(self, limit)

    def open_staged(self, staged: StagedFile) -> BinaryIO:
        raw = RangeReader(self.client, self.bucket, staged.key, staged.size)
        return io.BufferedReader(raw, buffer_size=64 * 1024)  # type: ignore[return-value]

    def commit(self, staged: StagedFile) -> str:
        final = self.key_for(staged.sha256)
        expected = _b64(bytes.fromhex(staged.sha256))
        with _answered("store a document"):
            if not self.verify(staged.sha256, staged.size, read_back=False):
                self._copy(staged, final, expected)
            self.client.delete_object(Bucket=self.bucket, Key=staged.key)
        staged.placed = True
        return final

    def _copy(self, staged: StagedFile, final: str, expected: str) -> None:
        source: Any = {"Bucket": self.bucket, "Key": staged.key}
        if staged.size <= COPY_OBJECT_LIMIT:
            copied = self.client.copy_object(
                Bucket=self.bucket, Key=final, CopySource=source, ChecksumAlgorithm="SHA256"
            )
            checksum = copied.get("CopyObjectResult", {}).get("ChecksumSHA256")
        else:
            self.client.copy(source, self.bucket, final)
            checksum = None
        # A store that computed the copy's SHA-256 said so; another one's copy is read back.
        intact = (
            checksum == expected
            if checksum is not None
            else self._hash_of(final) == (staged.sha256, staged.size)
        )
        if not intact:
            self.client.delete_object(Bucket=self.bucket, Key=final)
            raise StorageIntegrityError(
                f"{self.describe()}: the copy of {staged.key} does not hash to {staged.sha256}"
            )

    def discard(self, staged: StagedFile) -> None:
        if staged.placed:
            return
        with suppress(BotoCoreError, ClientError):
            self.client.delete_object(Bucket=self.bucket, Key=staged.key)

    def open(self, sha256: str) -> S3Content | None:
        with _answered("read a document"):
            try:
                found = self.client.get_object(Bucket=self.bucket, Key=self.key_for(sha256))
            except ClientError as exc:
                if _missing(exc):
                    return None
                raise
        return S3Content(found["Body"], found["ContentLength"])

    def has(self, sha256: str) -> bool:
        return self._head(self.key_for(sha256)) is not None

    def verify(self, sha256: str, size: int, *, read_back: bool = True) -> bool:
        """Without `read_back`, an object whose store keeps no full-object SHA-256 (one not
        placed by `commit`) counts as not verified, rather than being downloaded."""
        key = self.key_for(sha256)
        head = self._head(key, checksum=True)
        if head is None or head["ContentLength"] != size:
            return False
        stored = head.get("ChecksumSHA256")
        # A multipart object's checksum is of its parts' checksums ("...-3"), not of its bytes.
        if (
            stored
            and head.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT"
            and "-" not in stored
        ):
            try:
                return base64.b64decode(stored).hex() == sha256
            except (binascii.Error, ValueError):
                return False
        if not read_back:
            return False
        return self._hash_of(key) == (sha256, size)

    def _head(self, key: str, *, checksum: bool = False) -> Any:
        with _answered("look a document up"):
            try:
                if checksum:
                    return self.client.head_object(
                        Bucket=self.bucket, Key=key, ChecksumMode="ENABLED"
                    )
                return self.client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if _missing(exc):
                    return None
                raise

    def _hash_of(self, key: str) -> tuple[str, int]:
        """The SHA-256 and size of a stored object, read back in chunks."""
        digest, size = hashlib.sha256(), 0
        with _answered("read a document"):
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            try:
                for chunk in body.iter_chunks(READ_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
            finally:
                body.close()
        return digest.hexdigest(), size

    # -- what `admission gc` looks at ---------------------------------------------------

    def scan(self, kind: EntryKind) -> Iterator[StoreEntry]:
        with _answered("list documents"):
            if kind is EntryKind.STAGING:
                yield from self._staging_objects()
                yield from self._unfinished_uploads()
                return
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    found = self._objects.fullmatch(item["Key"])
                    if found and found[3].startswith(found[1] + found[2]):
                        yield StoreEntry(
                            EntryKind.OBJECT,
                            item["Key"],
                            item["Size"],
                            item["LastModified"].timestamp(),
                            sha256=found[3],
                        )

    def _staging_objects(self) -> Iterator[StoreEntry]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.staging_prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                started = self._started(item["Key"])
                if started is not None:
                    mtime = max(started, item["LastModified"].timestamp())
                    yield StoreEntry(EntryKind.STAGING, item["Key"], item["Size"], mtime)

    def _unfinished_uploads(self) -> Iterator[StoreEntry]:
        pages = self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=self.staging_prefix
        )
        for page in pages:
            for upload in page.get("Uploads", []):
                started = self._started(upload["Key"])
                if started is None:
                    continue
                found = self._upload_age(upload["Key"], upload["UploadId"], started)
                if found is not None:
                    size, mtime = found
                    yield StoreEntry(
                        EntryKind.STAGING,
                        upload["Key"],
                        size,
                        mtime,
                        upload_id=upload["UploadId"],
                    )

    def _started(self, key: str) -> float | None:
        """When the upload to a staging key began (in its name), or None if not ours."""
        found = STAGING_NAME.fullmatch(key[len(self.staging_prefix) :])
        return int(found[1]) / 1000 if found else None

    def _upload_age(self, key: str, upload_id: str, started: float) -> tuple[int, float] | None:
        """Size and time of the newest part of an unfinished upload (None if it ended)."""
        size, newest = 0, started
        try:
            pages = self.client.get_paginator("list_parts").paginate(
                Bucket=self.bucket, Key=key, UploadId=upload_id
            )
            for page in pages:
                for part in page.get("Parts", []):
                    size += part["Size"]
                    modified: datetime = part["LastModified"]
                    newest = max(newest, modified.timestamp())
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return size, newest

    def remove(self, entry: StoreEntry, cutoff: float) -> bool:
        with _answered("remove a document"):
            if entry.upload_id:
                found = self._upload_age(
                    entry.location, entry.upload_id, self._started(entry.location) or 0.0
                )
                if found is None or found[1] > cutoff:
                    return False
                try:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=entry.location, UploadId=entry.upload_id
                    )
                except ClientError as exc:
                    if _missing(exc):
                        return False
                    raise
                return True
            head = self._head(entry.location)
            if head is None or head["LastModified"].timestamp() > cutoff:
                return False
            self.client.delete_object(Bucket=self.bucket, Key=entry.location)
            return True

    def close(self) -> None:
        self.client.close()
