"""The demo Chain (DESIGN §1, §5): its organisations and the story of each dossier.

Members carry their real admission dates where the sources give them. Pending dossiers are
dated relative to the day the demo is loaded, so that their clocks look current whenever it is.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from app.cases.schemas import CaseCreate, TransitionRequest, UnitKind
from app.consultations.schemas import ConsultedMinistry, Verdict
from app.engine.roles import OrgKind, Role

# The demo's dates are the sources' own, in Vietnam time.
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class DemoOrg:
    slug: str
    name: str
    kind: OrgKind
    role: Role
    # An applicant organisation's province, which its dossiers take.
    province: str | None = None


@dataclass(frozen=True)
class DaysAgo:
    """A moment `days` before the day the demo is loaded, at `hour` o'clock in Vietnam."""

    days: int
    hour: int = 9


Moment = datetime | DaysAgo


@dataclass(frozen=True)
class Act:
    """`by` fires a transition, first filing whatever documents of its own the action needs."""

    at: Moment
    by: str
    request: TransitionRequest


@dataclass(frozen=True)
class File:
    """`by` files documents without acting (a draft being put together)."""

    at: Moment
    by: str
    documents: tuple[str, ...]


@dataclass(frozen=True)
class Answer:
    """A consulted ministry files its opinion and answers its open consultation."""

    at: Moment
    by: str
    verdict: Verdict
    comment: str


Step = Act | File | Answer


@dataclass(frozen=True)
class DemoCase:
    applicant: str
    created: Moment
    data: CaseCreate
    steps: tuple[Step, ...]


def on(year: int, month: int, day: int, hour: int = 9) -> datetime:
    """That day at `hour` o'clock, Vietnam time."""
    return datetime(year, month, day, hour, tzinfo=VIETNAM)


def ago(days: int, hour: int = 9) -> DaysAgo:
    """`days` before the demo is loaded, at `hour` o'clock in Vietnam."""
    return DaysAgo(days, hour)


def act(at: Moment, by: str, action: str, **fields: Any) -> Act:
    """A transition step; its request is validated when the module loads."""
    return Act(at, by, TransitionRequest(action=action, **fields))


def _province(slug: str, name: str, province: str) -> DemoOrg:
    return DemoOrg(slug, name, OrgKind.PROVINCE, Role.APPLICANT, province)


ORGANISATIONS: tuple[DemoOrg, ...] = (
    DemoOrg(
        "hdqlc",
        "Hội đồng quản lý Chuỗi Công viên phần mềm Quang Trung",
        OrgKind.COUNCIL,
        Role.COUNCIL,
    ),
    DemoOrg(
        "mic",
        "Bộ Thông tin và Truyền thông (Cục Công nghiệp CNTT-TT)",
        OrgKind.MINISTRY,
        Role.MINISTRY,
    ),
    DemoOrg("mpi", "Bộ Kế hoạch và Đầu tư", OrgKind.MINISTRY, Role.CONSULTED),
    DemoOrg("mof", "Bộ Tài chính", OrgKind.MINISTRY, Role.CONSULTED),
    DemoOrg("mod", "Bộ Quốc phòng", OrgKind.MINISTRY, Role.CONSULTED),
    DemoOrg("vpcp", "Văn phòng Chính phủ", OrgKind.GOVERNMENT, Role.GOVERNMENT),
    DemoOrg("press", "Văn phòng báo chí – bảng theo dõi Chuỗi", OrgKind.OBSERVER, Role.VIEWER),
    DemoOrg("ops", "Bộ phận vận hành hệ thống", OrgKind.OPERATOR, Role.ADMIN),
    _province("tp-hcm", "UBND Thành phố Hồ Chí Minh", "Hồ Chí Minh"),
    _province("thua-thien-hue", "UBND tỉnh Thừa Thiên Huế", "Thừa Thiên Huế"),
    _province("binh-dinh", "UBND tỉnh Bình Định", "Bình Định"),
    _province("tien-giang", "UBND tỉnh Tiền Giang", "Tiền Giang"),
    _province("hau-giang", "UBND tỉnh Hậu Giang", "Hậu Giang"),
    _province("khanh-hoa", "UBND tỉnh Khánh Hòa", "Khánh Hòa"),
    _province("can-tho", "UBND thành phố Cần Thơ", "Cần Thơ"),
    _province("binh-duong", "UBND tỉnh Bình Dương", "Bình Dương"),
    _province("quang-ngai", "UBND tỉnh Quảng Ngãi", "Quảng Ngãi"),
    _province("ben-tre", "UBND tỉnh Bến Tre", "Bến Tre"),
)

DECISION_333 = "333/QĐ-TTg"
DECISION_333_DATE = date(2016, 3, 3)


def _founder(province: str, start: datetime) -> tuple[Step, ...]:
    """QTSC and VNU-ITP predate the workflow: their 2016 admission, recorded in its terms."""
    note = "Thành viên sáng lập theo Quyết định 333/QĐ-TTg thí điểm thành lập Chuỗi"
    return (
        act(start, province, "submit"),
        act(start + timedelta(days=1), "hdqlc", "accept", comment=note),
        act(start + timedelta(days=8), "hdqlc", "propose_to_ministry"),
        act(on(2016, 2, 1), "mic", "submit_to_pm"),
        act(
            on(2016, 3, 3),
            "vpcp",
            "approve",
            decision_number=DECISION_333,
            decision_date=DECISION_333_DATE,
            comment="Phê duyệt thí điểm thành lập Chuỗi Công viên phần mềm Quang Trung",
        ),
        act(on(2016, 3, 21), province, "activate"),
    )


MEMBERS: tuple[DemoCase, ...] = (
    DemoCase(
        applicant="tp-hcm",
        created=on(2016, 1, 4),
        data=CaseCreate(
            applicant_name="Công viên phần mềm Quang Trung (QTSC)",
            province="Hồ Chí Minh",
            unit_kind=UnitKind.SOFTWARE_PARK,
            area_m2=Decimal(430000),
            address="Phường Tân Chánh Hiệp, Quận 12, TP. Hồ Chí Minh",
            investor="Công ty TNHH MTV Phát triển Công viên phần mềm Quang Trung",
        ),
        steps=_founder("tp-hcm", on(2016, 1, 11)),
    ),
    DemoCase(
        applicant="tp-hcm",
        created=on(2016, 1, 5),
        data=CaseCreate(
            applicant_name="Khu Công nghệ phần mềm Đại học Quốc gia TP. Hồ Chí Minh (VNU-ITP)",
            province="Hồ Chí Minh",
            unit_kind=UnitKind.SOFTWARE_PARK,
            address="Phường Linh Trung, TP. Thủ Đức, TP. Hồ Chí Minh",
            investor="Đại học Quốc gia TP. Hồ Chí Minh",
        ),
        steps=_founder("tp-hcm", on(2016, 1, 12)),
    ),
    DemoCase(
        applicant="thua-thien-hue",
        created=on(2019, 6, 10),
        data=CaseCreate(
            applicant_name="Trung tâm Công nghệ thông tin tỉnh Thừa Thiên Huế (HueCIT)",
            province="Thừa Thiên Huế",
            unit_kind=UnitKind.ICT_CENTRE,
            address="6 Lê Lợi, thành phố Huế, tỉnh Thừa Thiên Huế",
        ),
        steps=(
            act(on(2019, 6, 24), "thua-thien-hue", "submit"),
            act(on(2019, 6, 26), "hdqlc", "accept"),
            act(on(2019, 7, 16), "hdqlc", "record_site_visit", comment="Khảo sát tại HueCIT"),
            act(on(2019, 8, 6), "hdqlc", "propose_to_ministry"),
            act(on(2019, 9, 3), "mic", "open_consultation", ministries=["mpi", "mof"]),
            Answer(on(2019, 9, 12), "mpi", Verdict.AGREE, "Thống nhất kết nạp"),
            Answer(on(2019, 9, 16), "mof", Verdict.AGREE, "Thống nhất kết nạp"),
            act(on(2019, 9, 18), "mic", "close_consultation"),
            act(on(2019, 10, 15), "mic", "submit_to_pm"),
            act(
                on(2019, 12, 25),
                "vpcp",
                "approve",
                decision_number="1898/QĐ-TTg",
                decision_date=date(2019, 12, 25),
            ),
            act(on(2020, 2, 20), "thua-thien-hue", "activate"),
        ),
    ),
    DemoCase(
        applicant="binh-dinh",
        created=on(2022, 5, 9),
        data=CaseCreate(
            applicant_name="Trung tâm ICT tỉnh Bình Định",
            province="Bình Định",
            unit_kind=UnitKind.ICT_CENTRE,
            # The 1,102 m² building plus the 54 ha QTSC–Bình Định park.
            area_m2=Decimal(541102),
            address=(
                "Tòa nhà số 38 Trường Chinh, TP. Quy Nhơn; khu Công viên phần mềm Quang Trung"
                " – Bình Định, khu vực 2, phường Ghềnh Ráng, TP. Quy Nhơn, tỉnh Bình Định"
            ),
            investor="UBND tỉnh Bình Định",
        ),
        steps=(
            act(on(2022, 6, 6), "binh-dinh", "submit"),
            act(on(2022, 6, 8), "hdqlc", "accept"),
            act(on(2022, 7, 14), "hdqlc", "record_site_visit", comment="Khảo sát tại Quy Nhơn"),
            act(on(2022, 8, 23), "hdqlc", "propose_to_ministry"),
            act(on(2022, 9, 20), "mic", "open_consultation", ministries=["mpi", "mof"]),
            Answer(on(2022, 10, 3), "mpi", Verdict.AGREE, "Thống nhất kết nạp"),
            Answer(on(2022, 10, 5), "mof", Verdict.AGREE, "Thống nhất kết nạp"),
            act(on(2022, 10, 7), "mic", "close_consultation"),
            act(on(2022, 12, 20), "mic", "submit_to_pm"),
            act(
                on(2023, 3, 18),
                "vpcp",
                "approve",
                # The sources give the date of the Prime Minister's approval, not its number.
                decision_number="…/QĐ-TTg",
                decision_date=date(2023, 3, 18),
                comment="Phó Thủ tướng Trần Hồng Hà ký phê duyệt kết nạp",
            ),
            act(on(2023, 6, 15), "binh-dinh", "activate"),
        ),
    ),
)

APPLICANTS: tuple[DemoCase, ...] = (
    DemoCase(
        applicant="tien-giang",
        created=ago(75),
        data=CaseCreate(
            applicant_name="Công viên phần mềm Mekong Tiền Giang",
            province="Tiền Giang",
            unit_kind=UnitKind.SOFTWARE_PARK,
            address="Tỉnh Tiền Giang",
        ),
        steps=(
            act(ago(21), "tien-giang", "submit"),
            act(ago(14), "hdqlc", "accept"),
            act(ago(5), "hdqlc", "record_site_visit", comment="Khảo sát thực tế tại Tiền Giang"),
        ),
    ),
    DemoCase(
        applicant="hau-giang",
        created=on(2023, 3, 10),
        data=CaseCreate(
            applicant_name="Khu Công nghệ số tỉnh Hậu Giang",
            province="Hậu Giang",
            unit_kind=UnitKind.DIGITAL_TECHNOLOGY_ZONE,
            area_m2=Decimal(280000),
            address="Thành phố Vị Thanh, tỉnh Hậu Giang",
        ),
        steps=(
            act(
                ago(60),
                "hau-giang",
                "submit",
                comment="Đề án phê duyệt tại Quyết định 285/QĐ-UBND ngày 24/02/2023",
            ),
            act(ago(57), "hdqlc", "accept"),
            act(
                ago(30),
                "hdqlc",
                "request_supplement",
                reason=(
                    "Bổ sung văn bản về sự phù hợp với quy hoạch tỉnh và phương án"
                    " nhà đầu tư chiến lược"
                ),
                supplement_documents=["planning_conformity", "investment_plan"],
            ),
        ),
    ),
    DemoCase(
        applicant="khanh-hoa",
        created=on(2023, 3, 20),
        data=CaseCreate(
            applicant_name="Công viên phần mềm Quân đội",
            province="Khánh Hòa",
            unit_kind=UnitKind.SOFTWARE_PARK,
            area_m2=Decimal(35000),
            address="Thành phố Nha Trang, tỉnh Khánh Hòa",
            investor="Bộ Quốc phòng",
        ),
        steps=(
            act(on(2023, 4, 10), "khanh-hoa", "submit"),
            act(on(2023, 4, 12), "hdqlc", "accept"),
            act(
                on(2023, 5, 4),
                "hdqlc",
                "record_site_visit",
                comment="Đoàn HĐQLC khảo sát thực tế tại Nha Trang ngày 04/5/2023",
            ),
            act(ago(60), "hdqlc", "propose_to_ministry"),
            # Opened long enough ago that its deadline has passed: the overdue case. Defence,
            # whose park it is, was given 15 working days instead of the usual 10.
            act(
                ago(35),
                "mic",
                "open_consultation",
                ministries=["mpi", "mof", ConsultedMinistry(ministry="mod", working_days=15)],
            ),
            Answer(ago(26), "mpi", Verdict.AGREE_WITH_CONDITIONS, "Đề nghị làm rõ nguồn vốn"),
        ),
    ),
    DemoCase(
        applicant="can-tho",
        created=ago(40),
        data=CaseCreate(
            applicant_name="Khu CNTT tập trung thành phố Cần Thơ",
            province="Cần Thơ",
            unit_kind=UnitKind.CONCENTRATED_IT_ZONE,
            area_m2=Decimal(200219),
            address="Phường Hưng Thạnh, quận Cái Răng, thành phố Cần Thơ",
            investor="Quỹ đầu tư phát triển thành phố Cần Thơ",
        ),
        steps=(
            act(
                ago(1),
                "can-tho",
                "submit",
                comment="Thành lập theo Quyết định 895/QĐ-TTg ngày 09/6/2021",
            ),
        ),
    ),
    DemoCase(
        applicant="binh-duong",
        created=ago(100),
        data=CaseCreate(
            applicant_name="Khu CNTT tập trung Bình Dương",
            province="Bình Dương",
            unit_kind=UnitKind.CONCENTRATED_IT_ZONE,
            area_m2=Decimal(154700),
            address="Phường Hòa Phú, thành phố Thủ Dầu Một, tỉnh Bình Dương",
        ),
        steps=(
            act(
                ago(90),
                "binh-duong",
                "submit",
                comment="Vốn khái toán khoảng 10.000 tỷ đồng, giai đoạn 2024–2030",
            ),
            act(ago(88), "hdqlc", "accept"),
            act(ago(70), "hdqlc", "propose_to_ministry"),
            act(ago(24), "mic", "open_consultation", ministries=["mpi", "mof"]),
            Answer(ago(15), "mpi", Verdict.AGREE, "Thống nhất"),
            Answer(ago(12), "mof", Verdict.AGREE_WITH_CONDITIONS, "Làm rõ cơ cấu nguồn vốn"),
            act(
                ago(2),
                "mic",
                "close_consultation",
                comment="Tổng hợp ý kiến các Bộ để chuyển tỉnh tiếp thu, hoàn thiện",
            ),
        ),
    ),
    DemoCase(
        applicant="quang-ngai",
        created=ago(20),
        data=CaseCreate(
            applicant_name="Khu CNTT tập trung tỉnh Quảng Ngãi",
            province="Quảng Ngãi",
            unit_kind=UnitKind.CONCENTRATED_IT_ZONE,
            address="Tỉnh Quảng Ngãi",
        ),
        steps=(File(ago(10), "quang-ngai", ("provincial_proposal", "membership_scheme")),),
    ),
    DemoCase(
        applicant="ben-tre",
        created=ago(5),
        data=CaseCreate(
            applicant_name="Khu CNTT tập trung tỉnh Bến Tre",
            province="Bến Tre",
            unit_kind=UnitKind.CONCENTRATED_IT_ZONE,
        ),
        steps=(),
    ),
)

CASES: tuple[DemoCase, ...] = MEMBERS + APPLICANTS
