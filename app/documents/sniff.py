"""Document type detection from content (magic bytes), never from the name a client gave."""

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import BinaryIO

from app.core.errors import UnsupportedType


@dataclass(frozen=True)
class FileKind:
    content_type: str
    extensions: tuple[str, ...]


PDF = FileKind("application/pdf", (".pdf",))
PNG = FileKind("image/png", (".png",))
JPEG = FileKind("image/jpeg", (".jpg", ".jpeg"))
DOCX = FileKind(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)
)
XLSX = FileKind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",))

ALLOWED = (PDF, PNG, JPEG, DOCX, XLSX)
HEAD_BYTES = 16


def sniff(head: bytes, source: Callable[[], BinaryIO]) -> FileKind | None:
    """The kind of the file whose first bytes are `head`, or None if not allowed; `source`
    opens the whole file (seekable), for the archives whose contents tell their kind."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return _office_kind(source)
    return None


# Limits on what a DOCX/XLSX may unpack to: real documents stay far below them, while a
# "zip bomb" (a small upload that expands to gigabytes or to millions of entries) does not.
MAX_ARCHIVE_ENTRIES = 2_000
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200


def _office_kind(source: Callable[[], BinaryIO]) -> FileKind | None:
    try:
        with source() as file, zipfile.ZipFile(file) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        return None
    _refuse_bomb(infos)
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def _refuse_bomb(infos: list[zipfile.ZipInfo]) -> None:
    """415 for an archive whose declared contents are too many or too large to unpack safely."""
    if len(infos) > MAX_ARCHIVE_ENTRIES:
        raise UnsupportedType(
            f"the archive has more than {MAX_ARCHIVE_ENTRIES} entries",
            {"entries": len(infos), "limit": MAX_ARCHIVE_ENTRIES},
        )
    unpacked = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if unpacked > MAX_UNPACKED_BYTES:
        raise UnsupportedType(
            f"the archive unpacks to more than {MAX_UNPACKED_BYTES} bytes",
            {"unpacked": unpacked, "limit": MAX_UNPACKED_BYTES},
        )
    if unpacked > 1024 * 1024 and unpacked > MAX_COMPRESSION_RATIO * max(packed, 1):
        raise UnsupportedType(
            "the archive is compressed beyond any real document (a zip bomb?)",
            {"ratio_limit": MAX_COMPRESSION_RATIO},
        )


def extension_matches(kind: FileKind, filename: str) -> bool:
    """A name without an extension is accepted; one with a different extension is not."""
    suffix = PurePath(filename).suffix.lower()
    return not suffix or suffix in kind.extensions
