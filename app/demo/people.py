"""The demo's officials: a few named people per organisation, each with a one-time password.

The names are made up; the addresses are under `.example` (RFC 2606), which reaches no one.
"""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.auth.repository import UserRepository
from app.auth.users import create_user, enable_user, reset_password


@dataclass(frozen=True)
class DemoPerson:
    org: str
    role: str
    email: str
    name: str


PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("hau-giang", "applicant", "ngoc.tt@hau-giang.example", "Trương Thị Ngọc"),
    DemoPerson("hau-giang", "applicant", "phuc.lv@hau-giang.example", "Lý Văn Phúc"),
    DemoPerson("tien-giang", "applicant", "khanh.nd@tien-giang.example", "Nguyễn Đình Khánh"),
    DemoPerson("quang-ngai", "applicant", "thao.pt@quang-ngai.example", "Phan Thị Thảo"),
    DemoPerson("ben-tre", "applicant", "tam.hv@ben-tre.example", "Huỳnh Văn Tâm"),
    DemoPerson("hdqlc", "council", "lan.nt@hdqlc.example", "Nguyễn Thị Lan"),
    DemoPerson("hdqlc", "council", "hung.tv@hdqlc.example", "Trần Văn Hùng"),
    DemoPerson("mic", "ministry", "tuan.lm@mic.example", "Lê Minh Tuấn"),
    DemoPerson("mic", "ministry", "ha.pt@mic.example", "Phạm Thu Hà"),
    DemoPerson("mpi", "consulted", "vinh.dq@mpi.example", "Đỗ Quang Vinh"),
    DemoPerson("mof", "consulted", "mai.vt@mof.example", "Vũ Thị Mai"),
    DemoPerson("mod", "consulted", "nam.hv@mod.example", "Hoàng Văn Nam"),
    DemoPerson("vpcp", "government", "huong.bt@vpcp.example", "Bùi Thị Hương"),
    DemoPerson("press", "viewer", "khoa.dv@press.example", "Đặng Văn Khoa"),
    DemoPerson("ops", "admin", "son.nt@ops.example", "Ngô Thanh Sơn"),
)


def ensure_people(session: Session) -> list[tuple[DemoPerson, str]]:
    """Create the demo officials that are missing; every one gets a fresh one-time password."""
    issued = []
    repo = UserRepository(session)
    for person in PEOPLE:
        if repo.by_email(person.email) is None:
            made = create_user(
                session, org_slug=person.org, role=person.role, email=person.email, name=person.name
            )
            assert made.one_time_password is not None
            issued.append((person, made.one_time_password))
        else:
            enable_user(session, person.email)
            _, clear = reset_password(session, person.email)
            issued.append((person, clear))
    return issued
