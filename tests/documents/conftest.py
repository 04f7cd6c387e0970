"""Sample files of every kind, and ways to see what an upload left behind."""

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from app.context import AppContext
from app.core.db import unit_of_work
from app.documents.models import Document
from app.main import create_app
from tests.factories import Api, make_tokens

SMALL_LIMIT = 1000

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def png_bytes() -> bytes:
    """A valid 1×1 grey PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x80")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    """The start of a JFIF file: SOI, an APP0 segment, then EOI."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def zip_bytes(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


CONTENT_TYPES_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def docx_bytes(text: str = "Tờ trình") -> bytes:
    return zip_bytes(
        {
            "[Content_Types].xml": CONTENT_TYPES_XML,
            "word/document.xml": (
                '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/'
                f'main"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>'
            ),
        }
    )


def xlsx_bytes() -> bytes:
    return zip_bytes(
        {
            "[Content_Types].xml": CONTENT_TYPES_XML,
            "xl/workbook.xml": (
                '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                '<sheets><sheet name="Vốn" sheetId="1"/></sheets></workbook>'
            ),
        }
    )


def pdf_of_size(size: int) -> bytes:
    head = b"%PDF-1.4\n"
    tail = b"\n%%EOF\n"
    return head + b"%" * (size - len(head) - len(tail)) + tail


def raw_upload(
    api: Api,
    case_id: str,
    filename: bytes,
    content: bytes,
    doc_type: bytes = b"provincial_proposal",
    who: str = "applicant",
) -> Response:
    """A multipart upload written byte by byte, so the file name reaches the server unescaped."""
    boundary = b"----admission-test-boundary"
    body = (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="doc_type"\r\n\r\n' + doc_type + b"\r\n"
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n"
        b"--" + boundary + b"--\r\n"
    )
    headers = api.headers(who)
    headers["Content-Type"] = "multipart/form-data; boundary=" + boundary.decode()
    return api.client.post(f"/api/v1/cases/{case_id}/documents", content=body, headers=headers)


def stored_files(ctx: AppContext) -> set[Path]:
    return {p for p in ctx.store.root.rglob("*") if p.is_file()}


def staged_files(ctx: AppContext) -> list[Path]:
    return list(ctx.store.tmp_dir.iterdir())


def document_rows(ctx: AppContext) -> int:
    with unit_of_work(ctx.engine, write=False) as session:
        return int(session.scalar(select(func.count()).select_from(Document)) or 0)


@contextmanager
def nothing_stored(ctx: AppContext) -> Iterator[None]:
    """The block must leave no new document row, no new file and nothing staged."""
    rows, files = document_rows(ctx), stored_files(ctx)
    yield
    assert document_rows(ctx) == rows
    assert stored_files(ctx) == files
    assert staged_files(ctx) == []


@pytest.fixture
def limited_api(ctx: AppContext) -> Iterator[Api]:
    """The API of a service whose uploads are limited to `SMALL_LIMIT` bytes."""
    ctx.settings = ctx.settings.model_copy(update={"max_upload_bytes": SMALL_LIMIT})
    with TestClient(create_app(context=ctx), raise_server_exceptions=False) as client:
        yield Api(client, make_tokens(ctx))
