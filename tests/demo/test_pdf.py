"""Placeholder PDFs: Vietnamese text keeps its diacritics when the Unicode font is there."""

import io
from datetime import UTC, datetime
from pathlib import Path

from pypdf import PdfReader

from app.demo.pdf import DEJAVU_SANS, placeholder_pdf

TITLE = "Quyết định của UBND tỉnh về tổ chức và quy chế hoạt động"
APPLICANT = "Khu Công nghệ số tỉnh Hậu Giang"


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


class TestPlaceholderPdf:
    def test_title_applicant_and_demo_note_keep_their_vietnamese_marks(self) -> None:
        assert DEJAVU_SANS.is_file()
        content = placeholder_pdf(TITLE, APPLICANT)
        assert content.startswith(b"%PDF-")
        text = text_of(content)
        assert TITLE in text
        assert APPLICANT in text
        assert "Tài liệu minh họa" in text

    def test_the_document_is_dated_when_it_is_filed(self) -> None:
        filed = datetime(2019, 12, 25, 2, tzinfo=UTC)
        metadata = PdfReader(io.BytesIO(placeholder_pdf(TITLE, APPLICANT, created=filed))).metadata
        assert metadata is not None
        assert metadata.creation_date is not None
        assert metadata.creation_date.astimezone(UTC) == filed

    def test_without_the_font_file_the_text_falls_back_to_plain_letters(
        self, tmp_path: Path
    ) -> None:
        content = placeholder_pdf(TITLE, APPLICANT, font_path=tmp_path / "missing.ttf")
        text = text_of(content)
        assert "quyet dinh cua ubnd tinh ve to chuc va quy che hoat dong" in text
        assert "khu cong nghe so tinh hau giang" in text
        assert "tai lieu minh hoa" in text
