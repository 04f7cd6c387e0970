"""Document type detection from content (magic bytes), never from the name a client gave."""

import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePath


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


def sniff(head: bytes, path: Path) -> FileKind | None:
    """The kind of the file at `path` whose first bytes are `head`, or None if not allowed."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return _office_kind(path)
    return None


def _office_kind(path: Path) -> FileKind | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def extension_matches(kind: FileKind, filename: str) -> bool:
    """A name without an extension is accepted; one with a different extension is not."""
    suffix = PurePath(filename).suffix.lower()
    return not suffix or suffix in kind.extensions
