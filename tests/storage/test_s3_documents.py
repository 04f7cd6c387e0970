"""Documents and letters through the API with the S3 store: the same guarantees as on disk."""

import hashlib
import os
from typing import cast

import pytest

from app.context import AppContext
from app.storage.s3 import MIN_PART_BYTES, S3Store
from tests.documents.conftest import (
    CONTENT_TYPES,
    docx_bytes,
    pdf_of_size,
    png_bytes,
    xlsx_bytes,
    zip_bytes,
)
from tests.factories import Api, error_details, pdf_bytes
from tests.storage.conftest import bucket_keys, referenced, run_cli, unfinished_uploads

SAMPLES = {"pdf": pdf_bytes, "png": png_bytes, "docx": docx_bytes, "xlsx": xlsx_bytes}


def store_of(ctx: AppContext) -> S3Store:
    return cast(S3Store, ctx.store)


def objects(ctx: AppContext) -> set[str]:
    """The content addresses in the bucket; nothing else may be there."""
    store = store_of(ctx)
    keys = bucket_keys(store)
    assert not [k for k in keys if k.startswith(store.staging_prefix)]
    assert unfinished_uploads(store) == []
    return {k.rsplit("/", 1)[1] for k in keys}


class TestUploadAndDownload:
    @pytest.mark.parametrize("kind", list(SAMPLES))
    def test_each_kind_is_detected_by_its_content_and_stored_by_its_hash(
        self, s3_api: Api, s3_ctx: AppContext, kind: str
    ) -> None:
        case = s3_api.create_case()
        content = SAMPLES[kind]()

        response = s3_api.upload(case["id"], "site_documents", content=content, filename="ho-so")

        assert response.status_code == 201, response.text
        assert response.json()["content_type"] == CONTENT_TYPES[kind]
        assert objects(s3_ctx) == {hashlib.sha256(content).hexdigest()}

    def test_a_file_of_several_parts_comes_back_byte_identical_streamed(
        self, s3_api: Api, s3_ctx: AppContext
    ) -> None:
        case = s3_api.create_case()
        content = pdf_of_size(2 * MIN_PART_BYTES + 4321)

        uploaded = s3_api.upload(case["id"], "site_documents", content=content)
        assert uploaded.status_code == 201, uploaded.text
        download = s3_api.download(case["id"], uploaded.json()["id"])

        assert download.status_code == 200
        assert download.headers["content-length"] == str(len(content))
        assert download.headers["content-type"] == "application/pdf"
        assert download.headers["x-content-type-options"] == "nosniff"
        assert hashlib.sha256(download.content).digest() == hashlib.sha256(content).digest()
        assert objects(s3_ctx) == referenced(s3_ctx)

    def test_a_refused_upload_leaves_nothing_in_the_bucket(
        self, s3_api: Api, s3_ctx: AppContext
    ) -> None:
        case = s3_api.create_case()
        not_office = zip_bytes({"notes.txt": "x"})
        big = os.urandom(MIN_PART_BYTES + 1024)

        refused = s3_api.upload(case["id"], "site_documents", content=not_office)
        # Staged in two parts before its content is judged.
        unknown = s3_api.upload(case["id"], "site_documents", content=big, filename="x.pdf")
        accepted = s3_api.upload(case["id"], "site_documents", content=b"%PDF-" + big)

        error_details(refused, 415, "unsupported_type")
        error_details(unknown, 415, "unsupported_type")
        assert accepted.status_code == 201, accepted.text
        assert objects(s3_ctx) == referenced(s3_ctx) == {accepted.json()["sha256"]}

    def test_an_object_missing_from_the_bucket_is_a_404(
        self, s3_api: Api, s3_ctx: AppContext
    ) -> None:
        case = s3_api.create_case()
        doc = s3_api.upload(case["id"], "provincial_proposal").json()
        store = store_of(s3_ctx)
        store.client.delete_object(Bucket=store.bucket, Key=store.key_for(doc["sha256"]))

        error_details(s3_api.download(case["id"], doc["id"]), 404, "not_found")


class TestLetters:
    def test_a_supplement_notice_is_filed_in_the_bucket_and_downloadable(
        self, s3_api: Api, s3_ctx: AppContext
    ) -> None:
        case = s3_api.case_awaiting_supplement()
        notice = next(
            d for d in s3_api.documents(case["id"]) if d["doc_type"] == "supplement_notice"
        )

        download = s3_api.download(case["id"], notice["id"])

        assert download.status_code == 200
        assert download.content.startswith(b"%PDF-")
        assert hashlib.sha256(download.content).hexdigest() == notice["sha256"]
        assert objects(s3_ctx) == referenced(s3_ctx)


class TestGarbageCollection:
    def test_gc_removes_orphans_and_leftovers_and_keeps_every_referenced_object(
        self, s3_api: Api, s3_ctx: AppContext
    ) -> None:
        store = store_of(s3_ctx)
        case = s3_api.create_case()
        kept = s3_api.upload(case["id"], "provincial_proposal").json()
        orphan = store.stage_bytes(pdf_bytes("orphan"))
        store.commit(orphan)  # as an upload killed between its copy and its commit leaves it
        left = store.stage_bytes(b"staged, never committed")
        writer = store.staging(2 * MIN_PART_BYTES)
        writer.write(os.urandom(MIN_PART_BYTES))  # an upload cut off after its first part

        young = run_cli(s3_ctx, "gc")
        assert young.exit_code == 0, young.output
        assert young.output.splitlines()[-1].startswith("removed 0 files")

        dry = run_cli(s3_ctx, "gc", "--min-age", "0", "--dry-run")
        assert dry.exit_code == 0, dry.output
        assert f"would remove unreferenced {store.key_for(orphan.sha256)}" in dry.output
        assert f"would remove staging {left.key}" in dry.output
        assert f"would remove staging {writer.key} ({MIN_PART_BYTES} bytes)" in dry.output

        result = run_cli(s3_ctx, "gc", "--min-age", "0")

        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[-1].startswith(
            "removed 3 files (1 unreferenced, 2 staging)"
        )
        assert objects(s3_ctx) == {kept["sha256"]}
        assert s3_api.download(case["id"], kept["id"]).status_code == 200
