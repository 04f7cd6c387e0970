"""Rendering letters as PDF with an embedded Unicode font, so Vietnamese keeps its marks.

A letter is a pure function of its recorded input and the moment it was issued: the same
history entry always renders to the same bytes (fpdf2's creation date is the entry's time).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fpdf import FPDF

from app.core.errors import LetterFontMissing

FONT = "DejaVu"
NATIONAL_TITLE = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO = "Độc lập - Tự do - Hạnh phúc"


@dataclass(frozen=True)
class Fonts:
    """The letters' fonts, and the time zone their times are written in."""

    regular: Path
    bold: Path
    zone: ZoneInfo


def _day(value: str | None) -> str:
    return date.fromisoformat(value).strftime("%d/%m/%Y") if value else "—"


def _moment(value: str, zone: ZoneInfo) -> str:
    local = datetime.fromisoformat(value).astimezone(zone)
    return f"{local:%H} giờ {local:%M} phút, ngày {local:%d/%m/%Y}"


class _Letter:
    def __init__(self, fonts: Fonts, title: str, at: datetime) -> None:
        for path in (fonts.regular, fonts.bold):
            if not path.is_file():
                raise LetterFontMissing(f"letter font {path} is missing (apt: fonts-dejavu-core)")
        self.pdf = FPDF(format="A4")
        self.pdf.set_creator("QTSC Chain admission engine")
        self.pdf.set_title(title)
        self.pdf.set_creation_date(at.astimezone(UTC).replace(microsecond=0))
        self.pdf.add_font(FONT, "", str(fonts.regular))
        self.pdf.add_font(FONT, "B", str(fonts.bold))
        self.pdf.set_margins(20, 15, 20)
        self.pdf.add_page()

    def text(self, value: str, size: float = 11, *, bold: bool = False, align: str = "L") -> None:
        self.pdf.set_font(FONT, "B" if bold else "", size)
        self.pdf.multi_cell(0, size * 0.55, value, align=align, new_x="LMARGIN", new_y="NEXT")

    def gap(self, height: float = 3) -> None:
        self.pdf.ln(height)

    def heading(self, unit: str, number: str, title: str) -> None:
        self.text(unit.upper(), 10, bold=True)
        self.text(f"Số: {number}", 10)
        self.gap(2)
        self.text(NATIONAL_TITLE, 11, bold=True, align="C")
        self.text(NATIONAL_MOTTO, 11, bold=True, align="C")
        self.gap(6)
        self.text(title, 14, bold=True, align="C")
        self.gap(4)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def render_receipt(data: Mapping[str, Any], at: datetime, fonts: Fonts) -> bytes:
    """Giấy tiếp nhận hồ sơ và hẹn trả kết quả."""
    letter = _Letter(fonts, "Giấy tiếp nhận hồ sơ và hẹn trả kết quả", at)
    letter.heading(
        data["receiving_unit"], f"{data['code']}/TNHS", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"
    )
    letter.text(f"Mã hồ sơ: {data['code']}", bold=True)
    letter.text(f"{data['receiving_unit']} đã tiếp nhận hồ sơ của: {data['applicant_org']}")
    letter.text(f"Đơn vị đề nghị kết nạp: {data['applicant_name']} ({data['province']})")
    letter.text(f"Nội dung yêu cầu giải quyết: {data['procedure']}")
    letter.gap()
    letter.text("1. Thành phần hồ sơ nhận gồm:", bold=True)
    for index, doc in enumerate(data["documents"], start=1):
        line = f"   {index}. {doc['label']} — tệp {doc['filename']}"
        letter.text(f"{line} (SHA-256: {doc['sha256_prefix']}…)", 10)
    letter.text(f"2. Số lượng hồ sơ: 01 bộ, gồm {len(data['documents'])} thành phần.")
    letter.text(
        "3. Thời gian giải quyết hồ sơ theo quy định: "
        f"{data['deadline_working_days']} ngày làm việc."
    )
    letter.text(f"4. Thời gian nhận hồ sơ: {_moment(data['received_at'], fonts.zone)}.")
    letter.text(
        f"5. Thời gian trả kết quả giải quyết hồ sơ: ngày {_day(data['promised_date'])}.", bold=True
    )
    letter.text(f"6. Nhận kết quả tại: {data['receiving_unit']}.")
    letter.gap(8)
    letter.text("NGƯỜI TIẾP NHẬN HỒ SƠ", bold=True, align="R")
    if data.get("received_by"):
        letter.text(data["received_by"], bold=True, align="R")
    letter.text(data["receiving_unit"], 10, align="R")
    return letter.output()


def render_supplement_notice(data: Mapping[str, Any], at: datetime, fonts: Fonts) -> bytes:
    """Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ."""
    letter = _Letter(fonts, "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ", at)
    code = data["code"] or "—"
    letter.heading(
        data["requesting_unit"],
        f"{code}/YCBS-{data['sequence']}",
        "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
    )
    letter.text(f"Hồ sơ của: {data['applicant_org']}", bold=True)
    letter.text(f"Đơn vị đề nghị kết nạp: {data['applicant_name']} ({data['province']})")
    letter.text(f"Mã hồ sơ: {code}")
    letter.text(f"Nội dung yêu cầu giải quyết: {data['procedure']}")
    if data.get("received_at"):
        letter.text(f"Ngày tiếp nhận hồ sơ: {_moment(data['received_at'], fonts.zone)}")
    letter.gap()
    letter.text(
        f"Sau khi xem xét thành phần hồ sơ, {data['requesting_unit']} đề nghị bổ sung, hoàn thiện"
        " hồ sơ gồm những nội dung sau:"
    )
    items = data["items"]
    if items:
        for index, item in enumerate(items, start=1):
            letter.text(f"   {index}. {item['label']}", 10)
    else:
        letter.text("   (theo lý do nêu dưới đây)", 10)
    letter.gap(2)
    letter.text("Lý do:", bold=True)
    letter.text(data["reason"])
    letter.gap(2)
    remaining = data.get("remaining_working_days")
    if remaining is not None:
        letter.text(
            "Thời hạn giải quyết hồ sơ tạm dừng kể từ ngày ban hành phiếu này "
            f"(ngày hẹn trả trước đây: {_day(data.get('due_at_before'))}; "
            f"còn lại {remaining} ngày làm việc) và được tính tiếp khi nhận đủ hồ sơ bổ sung."
        )
    letter.text(f"Thời điểm yêu cầu: {_moment(data['requested_at'], fonts.zone)}.")
    letter.gap(8)
    letter.text("ĐƠN VỊ YÊU CẦU", bold=True, align="R")
    if data.get("requested_by"):
        letter.text(f"Người yêu cầu: {data['requested_by']}", bold=True, align="R")
    letter.text(data["requesting_unit"], 10, align="R")
    return letter.output()


RENDERERS = {
    "intake_receipt": render_receipt,
    "supplement_notice": render_supplement_notice,
}
