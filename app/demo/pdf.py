"""Small placeholder PDFs for the demo dossiers, generated on the fly."""

from datetime import datetime
from pathlib import Path

from fpdf import FPDF

from app.core.text import fold

DEJAVU_SANS = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
PLACEHOLDER_NOTE = "Tài liệu minh họa (dữ liệu demo), không có giá trị pháp lý."
FONT = "DejaVu"
# The PDF core fonts only cover Latin-1, so without a Unicode font the text loses its marks.
CORE_FONT = "Helvetica"


def placeholder_pdf(
    title: str,
    applicant_name: str,
    *,
    created: datetime | None = None,
    font_path: Path = DEJAVU_SANS,
) -> bytes:
    """A one-page PDF naming the document and the applicant, marked as a demo placeholder."""
    pdf = FPDF(format="A4")
    pdf.set_creator("QTSC Chain admission engine (demo)")
    pdf.set_title(title)
    if created is not None:
        pdf.set_creation_date(created)
    unicode_font = font_path.is_file()
    if unicode_font:
        pdf.add_font(FONT, fname=str(font_path))

    def write(text: str, size: int, height: float) -> None:
        pdf.set_font(FONT if unicode_font else CORE_FONT, size=size)
        pdf.multi_cell(
            0,
            height,
            text if unicode_font else fold(text),
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )

    pdf.add_page()
    write(title, 16, 9)
    pdf.ln(6)
    write(applicant_name, 12, 7)
    pdf.ln(4)
    write(PLACEHOLDER_NOTE, 10, 6)
    return bytes(pdf.output())
