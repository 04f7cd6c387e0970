"""Hostile uploads (OWASP ASVS V5): disguised executables, markup, archive bombs, odd forms."""

import io
import zipfile

import pytest

from app.context import AppContext
from app.documents import sniff
from tests.documents.conftest import CONTENT_TYPES_XML, docx_bytes, nothing_stored
from tests.factories import Api, error_details, pdf_bytes

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def docx_with(extra: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES_XML)
        archive.writestr("word/document.xml", "<w:document/>")
        for name, data in extra.items():
            archive.writestr(name, data)
    return buffer.getvalue()


class TestDisguisedContent:
    @pytest.mark.parametrize(
        ("content", "filename"),
        [
            pytest.param(EXE, "to-trinh.pdf", id="exe named pdf"),
            pytest.param(pdf_bytes(), "to-trinh.exe", id="pdf named exe"),
            pytest.param(HTML, "to-trinh.pdf", id="html named pdf"),
            pytest.param(HTML, "to-trinh.html", id="html"),
            pytest.param(SVG, "so-do.svg", id="svg with script"),
            pytest.param(b"%PDF" + b"\x00" * 10, "short.pdf", id="truncated pdf magic"),
        ],
    )
    def test_is_415_and_stores_nothing(
        self, api: Api, ctx: AppContext, content: bytes, filename: str
    ) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        with nothing_stored(ctx):
            response = api.upload(case["id"], "site_documents", content=content, filename=filename)
            error_details(response, 415, "unsupported_type")
        assert api.snapshot(case["id"]) == before

    def test_a_download_is_never_served_as_markup(self, api: Api) -> None:
        case = api.create_case()
        doc = api.upload(case["id"], "site_documents", filename="ban-do").json()
        response = api.download(case["id"], doc["id"])
        # The type comes from the content, and the browser is told not to guess another.
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-disposition"].startswith("attachment;")


class TestArchiveBombs:
    def test_an_archive_with_too_many_entries_is_415(self, api: Api, ctx: AppContext) -> None:
        case = api.create_case()
        entries = {f"word/media/{i}.bin": b"" for i in range(sniff.MAX_ARCHIVE_ENTRIES)}
        with nothing_stored(ctx):
            response = api.upload(
                case["id"], "site_documents", content=docx_with(entries), filename="a.docx"
            )
            details = error_details(response, 415, "unsupported_type")
        assert details["limit"] == sniff.MAX_ARCHIVE_ENTRIES

    def test_an_archive_that_expands_enormously_is_415(self, api: Api, ctx: AppContext) -> None:
        case = api.create_case()
        bomb = docx_with({"word/media/zeros.bin": b"\0" * (16 * 1024 * 1024)})
        assert len(bomb) < 100_000
        with nothing_stored(ctx):
            response = api.upload(case["id"], "site_documents", content=bomb, filename="a.docx")
            error_details(response, 415, "unsupported_type")

    def test_an_archive_declaring_more_than_the_unpacked_limit_is_415(
        self, api: Api, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sniff, "MAX_UNPACKED_BYTES", 1000)
        case = api.create_case()
        stored = docx_with({"word/media/photo.bin": bytes(range(256)) * 8}, compression=0)
        with nothing_stored(ctx):
            response = api.upload(case["id"], "site_documents", content=stored, filename="a.docx")
            details = error_details(response, 415, "unsupported_type")
        assert details["limit"] == 1000

    def test_an_ordinary_document_passes(self, api: Api) -> None:
        case = api.create_case()
        response = api.upload(case["id"], "site_documents", content=docx_bytes(), filename="a.docx")
        assert response.status_code == 201, response.text


class TestMultipartLimits:
    def test_an_unknown_form_field_is_422_and_stores_nothing(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.create_case()
        with nothing_stored(ctx):
            response = api.client.post(
                f"/api/v1/cases/{case['id']}/documents",
                data={"doc_type": "site_documents", "sha256": "0" * 64},
                files={"file": ("a.pdf", pdf_bytes())},
                headers=api.headers("applicant"),
            )
            details = error_details(response, 422, "invalid")
        assert "sha256" in details

    def test_too_many_parts_is_422(self, api: Api, ctx: AppContext) -> None:
        case = api.create_case()
        with nothing_stored(ctx):
            response = api.client.post(
                f"/api/v1/cases/{case['id']}/documents",
                data={f"f{i}": "x" for i in range(6)},
                files={"file": ("a.pdf", pdf_bytes())},
                headers=api.headers("applicant"),
            )
            error_details(response, 422, "invalid")

    def test_an_overlong_field_is_422(self, api: Api, ctx: AppContext) -> None:
        case = api.create_case()
        with nothing_stored(ctx):
            response = api.client.post(
                f"/api/v1/cases/{case['id']}/documents",
                data={"doc_type": "x" * 5000},
                files={"file": ("a.pdf", pdf_bytes())},
                headers=api.headers("applicant"),
            )
            error_details(response, 422, "invalid")
