"""Reading documents back: listing, streaming the bytes, names cleaned, who may see what."""

import uuid
from urllib.parse import unquote

import pytest

from app.context import AppContext
from tests.documents.conftest import CONTENT_TYPES, docx_bytes, raw_upload, xlsx_bytes
from tests.factories import Api, error_details, pdf_bytes


def disposition_names(header: str) -> tuple[str, str]:
    """The ASCII `filename` and the decoded `filename*` of an attachment header."""
    assert header.startswith("attachment;"), header
    params = dict(part.strip().split("=", 1) for part in header.split(";")[1:] if "=" in part)
    ascii_name = params["filename"].strip('"')
    encoded = params["filename*"]
    assert encoded.startswith("UTF-8''"), header
    return ascii_name, unquote(encoded[len("UTF-8''") :])


class TestDownload:
    @pytest.mark.parametrize(
        ("content", "filename", "kind"),
        [
            pytest.param(pdf_bytes("to-trinh"), "to-trinh.pdf", "pdf", id="pdf"),
            pytest.param(docx_bytes(), "de-an.docx", "docx", id="docx"),
            pytest.param(xlsx_bytes(), "von.xlsx", "xlsx", id="xlsx"),
        ],
    )
    def test_the_content_is_exactly_the_uploaded_bytes_with_safe_headers(
        self, api: Api, content: bytes, filename: str, kind: str
    ) -> None:
        case = api.create_case()
        doc = api.upload(case["id"], "membership_scheme", content=content, filename=filename)
        assert doc.status_code == 201, doc.text
        for who in ("applicant", "council", "ministry"):
            response = api.download(case["id"], doc.json()["id"], who)
            assert response.status_code == 200, response.text
            assert response.content == content
            assert response.headers["content-type"] == CONTENT_TYPES[kind]
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["content-length"] == str(len(content))
            assert disposition_names(response.headers["content-disposition"]) == (
                filename,
                filename,
            )

    def test_a_vietnamese_name_has_an_ascii_fallback_and_the_exact_utf8_name(
        self, api: Api
    ) -> None:
        case = api.create_case()
        name = "Tờ trình UBND tỉnh Hậu Giang.pdf"
        doc = api.upload(case["id"], "provincial_proposal", filename=name).json()
        assert doc["filename"] == name
        header = api.download(case["id"], doc["id"]).headers["content-disposition"]
        ascii_name, utf8_name = disposition_names(header)
        assert utf8_name == name
        assert ascii_name.isascii()
        assert ascii_name.endswith(".pdf")

    def test_an_unknown_document_is_404(self, api: Api) -> None:
        case = api.create_case()
        error_details(api.download(case["id"], str(uuid.uuid4())), 404, "not_found")

    def test_a_document_is_not_found_through_another_case(self, api: Api) -> None:
        first, second = api.create_case(), api.create_case()
        doc = api.upload(first["id"], "provincial_proposal").json()
        error_details(api.download(second["id"], doc["id"], "applicant"), 404, "not_found")


HOSTILE = [
    pytest.param(b"../../etc/passwd.pdf", "passwd.pdf", id="dot-dot slash"),
    pytest.param(b"/etc/passwd.pdf", "passwd.pdf", id="absolute"),
    pytest.param(b"..\\..\\Windows\\System32\\evil.pdf", "evil.pdf", id="backslashes"),
    pytest.param(b"C:\\Users\\x\\to-trinh.pdf", "to-trinh.pdf", id="drive letter"),
    pytest.param(b"to\x01\x07trinh\x1b\x7f.pdf", "totrinh.pdf", id="control chars"),
    pytest.param(b"bang\tke.pdf", "bangke.pdf", id="tab"),
    pytest.param("hop-dong\u202efdp.pdf".encode(), "hop-dongfdp.pdf", id="right-to-left override"),
    pytest.param("a\u200bb\u2066c.pdf".encode(), "abc.pdf", id="zero-width and isolates"),
    pytest.param(b".hidden.pdf", "hidden.pdf", id="leading dot"),
    pytest.param(b"../..", "document", id="nothing left"),
    pytest.param(b"   ", "document", id="blank"),
]


class TestHostileFilenames:
    @pytest.mark.parametrize(("raw_name", "cleaned"), HOSTILE)
    def test_a_hostile_name_comes_back_cleaned_everywhere(
        self, api: Api, raw_name: bytes, cleaned: str
    ) -> None:
        case = api.create_case()
        response = raw_upload(api, case["id"], raw_name, pdf_bytes())
        assert response.status_code == 201, response.text
        doc = response.json()
        assert doc["filename"] == cleaned
        listed = next(d for d in api.documents(case["id"]) if d["id"] == doc["id"])
        assert listed["filename"] == cleaned
        header = api.download(case["id"], doc["id"]).headers["content-disposition"]
        ascii_name, utf8_name = disposition_names(header)
        assert utf8_name == cleaned
        assert ascii_name == cleaned

    def test_a_very_long_name_is_shortened_keeping_its_extension(self, api: Api) -> None:
        case = api.create_case()
        response = raw_upload(api, case["id"], b"a" * 500 + b".pdf", pdf_bytes())
        assert response.status_code == 201, response.text
        name = response.json()["filename"]
        assert len(name) <= 200
        assert name.endswith(".pdf")

    def test_a_hostile_name_never_becomes_a_path_in_storage(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.create_case()
        content = pdf_bytes()
        doc = raw_upload(api, case["id"], b"../../../escape.pdf", content).json()
        root = ctx.store.root
        assert not (root.parent / "escape.pdf").exists()
        assert not any(p.name == "escape.pdf" for p in root.rglob("*"))
        assert (root / doc["sha256"][:2] / doc["sha256"][2:4] / doc["sha256"]).read_bytes() == (
            content
        )


class TestWhoMayReadDocuments:
    def test_a_viewer_may_list_documents_but_not_read_their_content(self, api: Api) -> None:
        case = api.create_case()
        doc = api.upload(case["id"], "provincial_proposal").json()
        listed = api.documents(case["id"], "viewer")
        assert [d["id"] for d in listed] == [doc["id"]]
        error_details(api.download(case["id"], doc["id"], "viewer"), 403, "forbidden")

    def test_another_province_gets_404_for_the_list_and_the_content(self, api: Api) -> None:
        case = api.create_case()
        doc = api.upload(case["id"], "provincial_proposal").json()
        listing = api.client.get(
            f"/api/v1/cases/{case['id']}/documents", headers=api.headers("other_applicant")
        )
        error_details(listing, 404, "not_found")
        error_details(api.download(case["id"], doc["id"], "other_applicant"), 404, "not_found")

    def test_a_ministry_that_is_not_consulted_gets_404(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi",))
        doc = api.documents(case["id"])[0]
        assert api.download(case["id"], doc["id"], "mpi").status_code == 200
        error_details(api.download(case["id"], doc["id"], "mof"), 404, "not_found")

    def test_a_request_without_a_token_is_401(self, api: Api) -> None:
        case = api.create_case()
        doc = api.upload(case["id"], "provincial_proposal").json()
        response = api.client.get(f"/api/v1/cases/{case['id']}/documents/{doc['id']}/content")
        error_details(response, 401, "unauthenticated")

    def test_the_list_shows_who_uploaded_each_document(self, api: Api) -> None:
        case = api.case_in_council_review()
        assert api.upload(case["id"], "site_visit_minutes", "council").status_code == 201
        uploaders = {d["doc_type"]: d["uploaded_by"] for d in api.documents(case["id"])}
        assert uploaders["provincial_proposal"] == "hau-giang"
        assert uploaders["site_visit_minutes"] == "hdqlc"
