"""Uploading documents: kinds by content, size limit, who may upload what and when."""

import hashlib

import pytest

from app.context import AppContext
from tests.documents.conftest import (
    CONTENT_TYPES,
    SMALL_LIMIT,
    document_rows,
    docx_bytes,
    jpeg_bytes,
    nothing_stored,
    pdf_of_size,
    png_bytes,
    staged_files,
    stored_files,
    xlsx_bytes,
    zip_bytes,
)
from tests.factories import SUBMIT_DOCUMENTS, Api, error_details, pdf_bytes

SAMPLES = {
    "pdf": pdf_bytes,
    "png": png_bytes,
    "jpg": jpeg_bytes,
    "docx": docx_bytes,
    "xlsx": xlsx_bytes,
}


class TestEveryAllowedKindIsAcceptedByItsContent:
    @pytest.mark.parametrize("kind", list(SAMPLES))
    def test_an_allowed_file_is_stored_with_its_hash_size_and_detected_type(
        self, api: Api, ctx: AppContext, kind: str
    ) -> None:
        case = api.create_case()
        content = SAMPLES[kind]()
        response = api.upload(
            case["id"], "membership_scheme", content=content, filename=f"x.{kind}"
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["doc_type"] == "membership_scheme"
        assert body["content_type"] == CONTENT_TYPES[kind]
        assert body["size"] == len(content)
        assert body["sha256"] == hashlib.sha256(content).hexdigest()
        assert body["filename"] == f"x.{kind}"

    @pytest.mark.parametrize("kind", list(SAMPLES))
    def test_the_kind_is_found_even_without_an_extension(
        self, api: Api, ctx: AppContext, kind: str
    ) -> None:
        case = api.create_case()
        response = api.upload(
            case["id"], "site_documents", content=SAMPLES[kind](), filename="ho-so"
        )
        assert response.status_code == 201, response.text
        assert response.json()["content_type"] == CONTENT_TYPES[kind]

    def test_the_bytes_are_stored_once_under_their_sha256(self, api: Api, ctx: AppContext) -> None:
        case = api.create_case()
        content = docx_bytes("Đề án tham gia Chuỗi")
        digest = hashlib.sha256(content).hexdigest()
        first = api.upload(case["id"], "membership_scheme", content=content, filename="de-an.docx")
        assert first.status_code == 201, first.text
        path = ctx.settings.storage_dir / digest[:2] / digest[2:4] / digest
        assert path.read_bytes() == content
        # The same bytes under another type: a second row, still one file.
        second = api.upload(case["id"], "investment_plan", content=content, filename="von.docx")
        assert second.status_code == 201, second.text
        assert second.json()["sha256"] == digest
        assert second.json()["id"] != first.json()["id"]
        assert stored_files(ctx) == {path}
        assert staged_files(ctx) == []

    def test_an_upload_moves_the_case_to_its_next_version_and_is_announced(self, api: Api) -> None:
        case = api.create_case()
        uploaded = api.upload(case["id"], "provincial_proposal").json()
        assert api.read(case["id"])["version"] == case["version"] + 1
        event = api.events(case["id"])[-1]
        assert event["type"] == "document.uploaded"
        assert event["data"]["document_id"] == uploaded["id"]
        assert event["data"]["sha256"] == uploaded["sha256"]


NOT_ALLOWED = [
    pytest.param(b"Kinh gui UBND tinh\n", "note.txt", id="plain text"),
    pytest.param(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 60, "setup.exe", id="exe"),
    pytest.param(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "setup.pdf", id="exe named pdf"),
    pytest.param(b"<html><script>alert(1)</script></html>", "page.html", id="html"),
    pytest.param(b"GIF89a\x01\x00\x01\x00", "image.gif", id="gif"),
    pytest.param(zip_bytes({"a.txt": "x"}), "archive.zip", id="plain zip"),
    pytest.param(zip_bytes({"word/document.xml": "<w/>"}), "x.docx", id="zip without types"),
    pytest.param(b"PK\x03\x04 not really a zip", "x.docx", id="broken zip"),
    pytest.param(b"", "empty.pdf", id="empty"),
]

MISNAMED = [
    pytest.param(pdf_bytes(), "to-trinh.docx", id="pdf named docx"),
    pytest.param(docx_bytes(), "to-trinh.pdf", id="docx named pdf"),
    pytest.param(xlsx_bytes(), "von.docx", id="xlsx named docx"),
    pytest.param(png_bytes(), "ban-do.jpg", id="png named jpg"),
    pytest.param(pdf_bytes(), "to-trinh.pdf.exe", id="double extension"),
]


class TestContentThatIsNotAllowedIsRefused:
    @pytest.mark.parametrize(("content", "filename"), NOT_ALLOWED)
    def test_a_file_of_another_kind_is_415_and_leaves_nothing(
        self, api: Api, ctx: AppContext, content: bytes, filename: str
    ) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        with nothing_stored(ctx):
            response = api.upload(case["id"], "site_documents", content=content, filename=filename)
            error_details(response, 415, "unsupported_type")
        assert api.snapshot(case["id"]) == before

    @pytest.mark.parametrize(("content", "filename"), MISNAMED)
    def test_an_allowed_kind_under_another_kinds_name_is_415(
        self, api: Api, ctx: AppContext, content: bytes, filename: str
    ) -> None:
        case = api.create_case()
        with nothing_stored(ctx):
            response = api.upload(case["id"], "site_documents", content=content, filename=filename)
            details = error_details(response, 415, "unsupported_type")
        assert details["filename"] == filename

    def test_a_body_that_is_not_multipart_is_415(self, api: Api, ctx: AppContext) -> None:
        case = api.create_case()
        with nothing_stored(ctx):
            response = api.client.post(
                f"/api/v1/cases/{case['id']}/documents",
                content=pdf_bytes(),
                headers={**api.headers("applicant"), "Content-Type": "application/pdf"},
            )
            error_details(response, 415, "unsupported_type")


class TestTheSizeLimit:
    def test_a_file_over_the_limit_is_413_and_nothing_is_left_in_storage(
        self, limited_api: Api, ctx: AppContext
    ) -> None:
        case = limited_api.create_case()
        before = limited_api.snapshot(case["id"])
        with nothing_stored(ctx):
            response = limited_api.upload(
                case["id"], "provincial_proposal", content=pdf_of_size(SMALL_LIMIT * 5)
            )
            details = error_details(response, 413, "too_large")
        assert details["limit"] == SMALL_LIMIT
        assert limited_api.snapshot(case["id"]) == before

    def test_one_byte_over_the_limit_is_413(self, limited_api: Api, ctx: AppContext) -> None:
        case = limited_api.create_case()
        with nothing_stored(ctx):
            response = limited_api.upload(
                case["id"], "provincial_proposal", content=pdf_of_size(SMALL_LIMIT + 1)
            )
            error_details(response, 413, "too_large")

    def test_a_body_declared_far_over_the_limit_is_refused_before_it_is_read(
        self, limited_api: Api, ctx: AppContext
    ) -> None:
        case = limited_api.create_case()
        with nothing_stored(ctx):
            response = limited_api.upload(
                case["id"], "provincial_proposal", content=pdf_of_size(200 * 1024)
            )
            error_details(response, 413, "too_large")

    def test_a_file_of_exactly_the_limit_is_accepted(
        self, limited_api: Api, ctx: AppContext
    ) -> None:
        case = limited_api.create_case()
        content = pdf_of_size(SMALL_LIMIT)
        response = limited_api.upload(case["id"], "provincial_proposal", content=content)
        assert response.status_code == 201, response.text
        assert response.json()["size"] == SMALL_LIMIT
        assert staged_files(ctx) == []


class TestMalformedUploads:
    def test_an_unknown_document_type_is_422_naming_the_known_ones(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        with nothing_stored(ctx):
            response = api.upload(case["id"], "feasibility_study")
            details = error_details(response, 422, "invalid")
        assert "provincial_proposal" in details["doc_type"]
        assert api.snapshot(case["id"]) == before

    def test_a_missing_document_type_is_422(self, api: Api, ctx: AppContext) -> None:
        case = api.create_case()
        with nothing_stored(ctx):
            response = api.client.post(
                f"/api/v1/cases/{case['id']}/documents",
                files={"file": ("to-trinh.pdf", pdf_bytes())},
                headers=api.headers("applicant"),
            )
            error_details(response, 422, "invalid")

    def test_a_missing_file_is_422_naming_the_field(self, api: Api, ctx: AppContext) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        with nothing_stored(ctx):
            response = api.client.post(
                f"/api/v1/cases/{case['id']}/documents",
                files={"doc_type": (None, b"provincial_proposal")},
                headers=api.headers("applicant"),
            )
            details = error_details(response, 422, "invalid")
        assert "file" in details
        assert api.snapshot(case["id"]) == before

    def test_two_files_in_one_upload_are_422(self, api: Api, ctx: AppContext) -> None:
        case = api.create_case()
        with nothing_stored(ctx):
            response = api.client.post(
                f"/api/v1/cases/{case['id']}/documents",
                data={"doc_type": "provincial_proposal"},
                files=[("file", ("a.pdf", pdf_bytes())), ("file", ("b.pdf", pdf_bytes()))],
                headers=api.headers("applicant"),
            )
            error_details(response, 422, "invalid")


class TestWhoMayUploadWhat:
    def test_the_applicant_may_not_upload_the_councils_document(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        with nothing_stored(ctx):
            error_details(api.upload(case["id"], "council_proposal"), 403, "forbidden")
        assert api.snapshot(case["id"]) == before

    def test_the_council_may_not_upload_the_provinces_document(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.case_in_council_review()
        before = api.snapshot(case["id"])
        with nothing_stored(ctx):
            response = api.upload(case["id"], "provincial_proposal", "council")
            error_details(response, 403, "forbidden")
        assert api.snapshot(case["id"]) == before

    @pytest.mark.parametrize("who", ["viewer", "admin"])
    def test_a_role_that_uploads_nothing_is_403(self, api: Api, ctx: AppContext, who: str) -> None:
        case = api.create_case()
        with nothing_stored(ctx):
            error_details(api.upload(case["id"], "provincial_proposal", who), 403, "forbidden")

    def test_an_applicant_document_after_submit_is_409_not_allowed_in_state(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.submitted_case()
        before = api.snapshot(case["id"])
        with nothing_stored(ctx):
            response = api.upload(case["id"], "provincial_proposal")
            details = error_details(response, 409, "not_allowed_in_state")
        assert details["state"] == "submitted"
        assert api.snapshot(case["id"]) == before

    def test_an_applicant_document_during_council_review_is_409(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.case_in_council_review()
        with nothing_stored(ctx):
            response = api.upload(case["id"], "site_documents")
            error_details(response, 409, "not_allowed_in_state")

    def test_the_council_may_not_upload_its_minutes_before_intake(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.submitted_case()
        with nothing_stored(ctx):
            response = api.upload(case["id"], "site_visit_minutes", "council")
            error_details(response, 409, "not_allowed_in_state")

    def test_the_applicant_may_upload_again_while_a_supplement_is_requested(self, api: Api) -> None:
        case = api.case_awaiting_supplement("council")
        response = api.upload(case["id"], "site_documents")
        assert response.status_code == 201, response.text

    def test_another_provinces_case_is_404_and_stores_nothing(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        with nothing_stored(ctx):
            response = api.upload(case["id"], "provincial_proposal", "other_applicant")
            error_details(response, 404, "not_found")
        assert api.snapshot(case["id"]) == before

    def test_an_upload_without_a_token_is_401_and_stores_nothing(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.create_case()
        with nothing_stored(ctx):
            response = api.client.post(
                f"/api/v1/cases/{case['id']}/documents",
                data={"doc_type": "provincial_proposal"},
                files={"file": ("a.pdf", pdf_bytes())},
            )
            error_details(response, 401, "unauthenticated")


class TestReuploadSupersedes:
    def test_a_second_upload_of_a_type_supersedes_the_first_which_stays_listed(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.create_case()
        old = api.upload(case["id"], "site_documents", filename="v1.pdf").json()
        new = api.upload(case["id"], "site_documents", filename="v2.pdf").json()
        listed = {d["id"]: d for d in api.documents(case["id"], "applicant")}
        assert listed[old["id"]]["superseded"] is True
        assert listed[old["id"]]["superseded_by"] == new["id"]
        assert listed[new["id"]]["superseded"] is False
        assert listed[new["id"]]["superseded_by"] is None
        assert document_rows(ctx) == 2
        # The old bytes stay readable: the superseded version is kept in history.
        assert api.download(case["id"], old["id"], "applicant").status_code == 200

    def test_a_superseded_type_still_counts_as_present(self, api: Api) -> None:
        case = api.create_case()
        for doc_type in SUBMIT_DOCUMENTS:
            assert api.upload(case["id"], doc_type).status_code == 201
        assert api.upload(case["id"], "provincial_proposal", filename="v2.pdf").status_code == 201
        submit = next(
            a
            for a in api.read(case["id"], "applicant")["allowed_actions"]
            if a["action"] == "submit"
        )
        assert submit["missing"] == []
        assert api.advance(case["id"], "submit", "applicant")["state"] == "submitted"

    def test_a_third_upload_supersedes_only_the_current_one(self, api: Api) -> None:
        case = api.create_case()
        ids = [api.upload(case["id"], "site_documents").json()["id"] for _ in range(3)]
        listed = {d["id"]: d for d in api.documents(case["id"])}
        assert [listed[i]["superseded_by"] for i in ids] == [ids[1], ids[2], None]

    def test_a_missing_type_is_listed_as_missing_until_uploaded(self, api: Api) -> None:
        case = api.create_case()
        for doc_type in SUBMIT_DOCUMENTS[:-1]:
            assert api.upload(case["id"], doc_type).status_code == 201
        submit = next(
            a
            for a in api.read(case["id"], "applicant")["allowed_actions"]
            if a["action"] == "submit"
        )
        assert [(m["kind"], m["name"]) for m in submit["missing"]] == [
            ("document", SUBMIT_DOCUMENTS[-1])
        ]
