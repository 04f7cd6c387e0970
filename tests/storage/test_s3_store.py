"""The S3 document store against a real S3 API (moto's server): content addresses, parts,
verification by SHA-256, streaming reads, and what `admission gc` is shown."""

import hashlib
import os
import time

import boto3
import pytest
from botocore.config import Config

from app.core.errors import StorageIntegrityError, StorageUnavailable, TooLarge
from app.storage.base import EntryKind
from app.storage.s3 import MIN_PART_BYTES, S3Store
from tests.live import free_port

MIB = 1024 * 1024


def keys(store: S3Store) -> set[str]:
    listed = store.client.list_objects_v2(Bucket=store.bucket)
    return {item["Key"] for item in listed.get("Contents", [])}


def unfinished(store: S3Store) -> list[str]:
    return [
        u["Key"]
        for u in store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    ]


def read(store: S3Store, sha256: str) -> bytes:
    content = store.open(sha256)
    assert content is not None
    return b"".join(content.chunks())


def stage(store: S3Store, data: bytes, chunk: int = 64 * 1024, limit: int | None = None):
    writer = store.staging(limit if limit is not None else len(data))
    for start in range(0, len(data), chunk):
        writer.write(data[start : start + chunk])
    return writer.finish()


class TestStagingAndCommitting:
    def test_a_small_file_is_staged_then_placed_at_its_content_address_and_verified(
        self, s3_store: S3Store
    ) -> None:
        data = b"%PDF-1.4\n" + os.urandom(1000)
        sha = hashlib.sha256(data).hexdigest()

        staged = stage(s3_store, data)

        assert (staged.size, staged.sha256, staged.head) == (len(data), sha, data[:16])
        assert keys(s3_store) == {staged.key}
        assert staged.key.startswith("docs/tmp/")
        placed = s3_store.commit(staged)
        assert placed == f"docs/{sha[:2]}/{sha[2:4]}/{sha}"
        assert keys(s3_store) == {placed}
        assert s3_store.verify(sha, len(data))
        assert read(s3_store, sha) == data

    def test_a_large_file_goes_up_in_parts_holding_at_most_one_part_in_memory(
        self, s3_store: S3Store
    ) -> None:
        data = os.urandom(2 * MIN_PART_BYTES + 12345)
        writer = s3_store.staging(len(data))
        largest = 0
        for start in range(0, len(data), 256 * 1024):
            writer.write(data[start : start + 256 * 1024])
            largest = max(largest, len(writer._buffer))
        # Two full parts are up already, in a multipart upload not yet completed.
        assert unfinished(s3_store) == [writer.key]
        staged = writer.finish()

        assert largest < MIN_PART_BYTES
        assert unfinished(s3_store) == []
        s3_store.commit(staged)
        assert s3_store.verify(staged.sha256, len(data))
        content = s3_store.open(staged.sha256)
        assert content is not None
        assert content.size == len(data)
        chunks = list(content.chunks())
        assert max(len(c) for c in chunks) <= 256 * 1024
        assert b"".join(chunks) == data

    def test_bytes_already_stored_are_reused_and_the_staging_object_goes(
        self, s3_store: S3Store
    ) -> None:
        data = os.urandom(500)
        first = stage(s3_store, data)
        s3_store.commit(first)
        second = stage(s3_store, data)

        assert s3_store.commit(second) == s3_store.key_for(first.sha256)

        assert keys(s3_store) == {s3_store.key_for(first.sha256)}

    def test_more_than_the_limit_is_refused_and_the_upload_aborted(self, s3_store: S3Store) -> None:
        with pytest.raises(TooLarge):
            stage(s3_store, os.urandom(MIN_PART_BYTES + MIB), limit=MIN_PART_BYTES + 1000)

        assert unfinished(s3_store) == []
        assert keys(s3_store) == set()

    def test_a_discarded_staged_file_leaves_nothing(self, s3_store: S3Store) -> None:
        staged = stage(s3_store, os.urandom(100))

        s3_store.discard(staged)

        assert keys(s3_store) == set()

    def test_a_copy_that_does_not_hash_to_its_name_is_refused_and_removed(
        self, s3_store: S3Store
    ) -> None:
        staged = stage(s3_store, b"the bytes that were hashed")
        # The staging object changes in the store before it is committed.
        s3_store.client.put_object(Bucket=s3_store.bucket, Key=staged.key, Body=b"other bytes")

        with pytest.raises(StorageIntegrityError):
            s3_store.commit(staged)

        assert not s3_store.has(staged.sha256)
        assert not staged.placed

    def test_a_staged_archive_is_read_by_ranges_like_a_file(self, s3_store: S3Store) -> None:
        import zipfile

        data = os.urandom(3000)
        staged = stage(s3_store, data)
        with s3_store.open_staged(staged) as file:
            file.seek(-100, os.SEEK_END)
            assert file.read() == data[-100:]
            file.seek(10)
            assert file.read(20) == data[10:30]
        with pytest.raises(zipfile.BadZipFile), s3_store.open_staged(staged) as file:
            zipfile.ZipFile(file)


class TestAStoreThatDoesNotAnswer:
    def test_staging_fails_as_storage_unavailable(self) -> None:
        nobody = boto3.session.Session().client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{free_port()}",
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(retries={"max_attempts": 1}, connect_timeout=1),
        )
        down = S3Store(nobody, "nowhere")

        with pytest.raises(StorageUnavailable) as raised:
            down.stage_bytes(b"%PDF-1.4 x")

        assert raised.value.status == 503
        assert raised.value.code == "storage_unavailable"


class TestWhatGarbageCollectionIsShown:
    def test_objects_staging_objects_and_unfinished_uploads_are_listed_with_their_age(
        self, s3_store: S3Store
    ) -> None:
        stored = stage(s3_store, b"stored")
        s3_store.commit(stored)
        left_staged = stage(s3_store, b"staged, never committed")
        writer = s3_store.staging(2 * MIN_PART_BYTES)
        writer.write(os.urandom(MIN_PART_BYTES))  # one part up, never completed
        # Not ours: left alone whatever its age.
        s3_store.client.put_object(Bucket=s3_store.bucket, Key="docs/README", Body=b"x")
        s3_store.client.put_object(Bucket=s3_store.bucket, Key="elsewhere/tmp/x.part", Body=b"x")

        objects = list(s3_store.scan(EntryKind.OBJECT))
        staging = list(s3_store.scan(EntryKind.STAGING))

        assert [(e.sha256, e.size) for e in objects] == [(stored.sha256, 6)]
        assert sorted((e.location, e.size, bool(e.upload_id)) for e in staging) == sorted(
            [
                (left_staged.key, len(b"staged, never committed"), False),
                (writer.key, MIN_PART_BYTES, True),
            ]
        )
        assert all(abs(e.mtime - time.time()) < 60 for e in objects + staging)

    def test_removal_spares_what_was_written_after_the_cutoff(self, s3_store: S3Store) -> None:
        stored = stage(s3_store, b"stored")
        s3_store.commit(stored)
        writer = s3_store.staging(2 * MIN_PART_BYTES)
        writer.write(os.urandom(MIN_PART_BYTES))
        entries = list(s3_store.scan(EntryKind.OBJECT)) + list(s3_store.scan(EntryKind.STAGING))
        long_ago = time.time() - 3600

        assert not any(s3_store.remove(e, long_ago) for e in entries)
        assert all(s3_store.remove(e, time.time() + 60) for e in entries)

        assert keys(s3_store) == set()
        assert unfinished(s3_store) == []
