"""`admission storage copy --to s3://...`: moving the documents of a running local store into
a bucket, verifying every SHA-256, resumable by running it again."""

import hashlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.admission.registry import build_context
from app.context import AppContext
from app.main import create_app
from app.storage.base import EntryKind
from app.storage.local import LocalStore
from app.storage.s3 import S3Store
from tests.factories import Api, pdf_bytes
from tests.s3 import REGION, S3Server
from tests.storage.conftest import bucket_keys, run_cli


@pytest.fixture
def bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Store:
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return S3Store(s3_server.client(), s3_server.new_bucket(), "documents")


def copy(ctx: AppContext, bucket: S3Store, *args: str) -> tuple[int, list[str]]:
    result = run_cli(
        ctx,
        "storage",
        "copy",
        "--to",
        f"s3://{bucket.bucket}/documents",
        *args,
        env={"S3_ENDPOINT_URL": bucket.client.meta.endpoint_url, "S3_REGION": REGION},
    )
    return result.exit_code, result.output.splitlines()


@pytest.fixture
def uploaded(api: Api) -> tuple[str, dict[str, bytes]]:
    """A case with two uploads (one superseded) and a supplement notice: four objects."""
    case = api.case_awaiting_supplement()
    contents = {}
    for label in ("first", "second"):
        content = pdf_bytes(label)
        answer = api.upload(case["id"], "site_documents", content=content)
        assert answer.status_code == 201, answer.text
        contents[answer.json()["sha256"]] = content
    return case["id"], contents


def shas(bucket: S3Store) -> set[str]:
    return {key.rsplit("/", 1)[1] for key in bucket_keys(bucket)}


class TestCopyingTheLocalStoreToS3:
    def test_every_referenced_object_is_copied_verified_and_served_from_the_bucket(
        self, api: Api, ctx: AppContext, bucket: S3Store, uploaded: tuple[str, dict[str, bytes]]
    ) -> None:
        case_id, contents = uploaded
        documents = api.documents(case_id)
        # An orphan in the local store is not the bucket's business.
        assert isinstance(ctx.store, LocalStore)
        ctx.store.commit(ctx.store.stage_bytes(pdf_bytes("orphan")))

        status, output = copy(ctx, bucket)

        assert status == 0, output
        assert output[0] == f"copying from {ctx.store.root} to s3://{bucket.bucket}/documents/"
        total = sum(d["size"] for d in {d["sha256"]: d for d in documents}.values())
        expected = f"copied {len({d['sha256'] for d in documents})} objects ({total} bytes)"
        assert output[-1].startswith(expected)
        assert shas(bucket) == {d["sha256"] for d in documents}
        assert all(bucket.verify(d["sha256"], d["size"]) for d in documents)

        # The same database served from the bucket: every document still downloads.
        moved = ctx.settings.model_copy(
            update={
                "storage_url": f"s3://{bucket.bucket}/documents",
                "s3_endpoint_url": bucket.client.meta.endpoint_url,
                "s3_region": REGION,
                "storage_dir": ctx.settings.storage_dir.parent / "unused",
            }
        )
        with TestClient(create_app(context=build_context(moved))) as client:
            on_s3 = Api(client, api.tokens)
            for doc in documents:
                download = on_s3.download(case_id, doc["id"])
                assert hashlib.sha256(download.content).hexdigest() == doc["sha256"]

    def test_an_interrupted_copy_is_resumed_copying_only_what_the_bucket_lacks(
        self, api: Api, ctx: AppContext, bucket: S3Store, uploaded: tuple[str, dict[str, bytes]]
    ) -> None:
        _, contents = uploaded
        status, _ = copy(ctx, bucket)
        assert status == 0
        everything = shas(bucket)
        lost, damaged = sorted(contents)
        # As if the first run had stopped before one object, and left another half-written.
        bucket.client.delete_object(Bucket=bucket.bucket, Key=bucket.key_for(lost))
        bucket.client.put_object(Bucket=bucket.bucket, Key=bucket.key_for(damaged), Body=b"%PDF")

        status, output = copy(ctx, bucket, "--verbose")

        assert status == 0, output
        assert f"copied {lost}" in output
        assert f"copied {damaged}" in output
        assert output[-1].startswith(
            f"copied 2 objects ({len(contents[lost]) + len(contents[damaged])} bytes), "
            f"{len(everything) - 2} already there and verified"
        )
        assert shas(bucket) == everything
        assert bucket.verify(damaged, len(contents[damaged]))

        status, output = copy(ctx, bucket)
        assert output[-1].startswith(f"copied 0 objects (0 bytes), {len(everything)} already")

    def test_a_missing_or_corrupt_local_file_is_named_and_fails_the_copy_of_nothing_else(
        self, api: Api, ctx: AppContext, bucket: S3Store, uploaded: tuple[str, dict[str, bytes]]
    ) -> None:
        case_id, contents = uploaded
        assert isinstance(ctx.store, LocalStore)
        gone, corrupt = sorted(contents)
        ctx.store.path_for(gone).unlink()
        ctx.store.path_for(corrupt).write_bytes(b"%PDF-1.4 not what was uploaded")

        status, output = copy(ctx, bucket)

        assert status == 1
        assert f"missing {gone}" in output
        assert f"mismatched {corrupt}" in output
        assert output[-1].endswith("1 missing from the source, 1 not matching their SHA-256")
        # Everything else was copied.
        assert shas(bucket) == {d["sha256"] for d in api.documents(case_id)} - {gone, corrupt}
        assert list(bucket.scan(EntryKind.STAGING)) == []

    def test_a_target_that_is_not_a_store_url_is_refused(
        self, ctx: AppContext, bucket: S3Store
    ) -> None:
        result = run_cli(ctx, "storage", "copy", "--to", "ftp://example/x")

        assert result.exit_code == 2
        assert "s3://bucket/prefix" in result.output


@pytest.fixture(autouse=True)
def _nothing_left_staged(ctx: AppContext) -> Iterator[None]:
    yield
    assert isinstance(ctx.store, LocalStore)
    assert list(ctx.store.tmp_dir.iterdir()) == []
