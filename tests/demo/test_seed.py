"""`admission seed --demo`: the real Chain, loaded through the services, seen through the API."""

import io
from datetime import date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.auth.models import ApiToken, Organisation
from app.cases.models import Case
from app.consultations.models import Consultation
from app.context import AppContext
from app.core.db import unit_of_work
from app.core.errors import TransitionNotAllowed
from app.demo import seed
from app.demo.chain import VIETNAM, DemoCase, act, ago
from app.documents.models import Document
from app.events.models import Event
from app.history.models import AuditEntry
from tests.demo.conftest import SeededChain

QTSC = "Công viên phần mềm Quang Trung (QTSC)"
VNU_ITP = "Khu Công nghệ phần mềm Đại học Quốc gia TP. Hồ Chí Minh (VNU-ITP)"
HUECIT = "Trung tâm Công nghệ thông tin tỉnh Thừa Thiên Huế (HueCIT)"
BINH_DINH = "Trung tâm ICT tỉnh Bình Định"
MEKONG = "Công viên phần mềm Mekong Tiền Giang"
HAU_GIANG = "Khu Công nghệ số tỉnh Hậu Giang"
MILITARY = "Công viên phần mềm Quân đội"
CAN_THO = "Khu CNTT tập trung thành phố Cần Thơ"
BINH_DUONG = "Khu CNTT tập trung Bình Dương"
QUANG_NGAI = "Khu CNTT tập trung tỉnh Quảng Ngãi"
BEN_TRE = "Khu CNTT tập trung tỉnh Bến Tre"

EXPECTED_STATES = {
    QTSC: "member",
    VNU_ITP: "member",
    HUECIT: "member",
    BINH_DINH: "member",
    MEKONG: "council_review",
    HAU_GIANG: "supplement_requested",
    MILITARY: "consultation",
    CAN_THO: "submitted",
    BINH_DUONG: "ministry_appraisal",
    QUANG_NGAI: "draft",
    BEN_TRE: "draft",
}

DEMO_ROLES = {
    "hdqlc": "council",
    "mic": "ministry",
    "mpi": "consulted",
    "mof": "consulted",
    "mod": "consulted",
    "vpcp": "government",
    "press": "viewer",
    "ops": "admin",
    **{
        province: "applicant"
        for province in (
            "tp-hcm",
            "thua-thien-hue",
            "binh-dinh",
            "tien-giang",
            "hau-giang",
            "khanh-hoa",
            "can-tho",
            "binh-duong",
            "quang-ngai",
            "ben-tre",
        )
    },
}


# The province each demo applicant organisation belongs to (DESIGN §1).
PROVINCES = {
    "tp-hcm": "Hồ Chí Minh",
    "thua-thien-hue": "Thừa Thiên Huế",
    "binh-dinh": "Bình Định",
    "tien-giang": "Tiền Giang",
    "hau-giang": "Hậu Giang",
    "khanh-hoa": "Khánh Hòa",
    "can-tho": "Cần Thơ",
    "binh-duong": "Bình Dương",
    "quang-ngai": "Quảng Ngãi",
    "ben-tre": "Bến Tre",
}


def local_day(at: str) -> date:
    return datetime.fromisoformat(at).astimezone(VIETNAM).date()


class TestPipeline:
    def test_the_press_sees_the_four_members_and_every_applicant_in_its_state(
        self, chain: SeededChain
    ) -> None:
        pipeline = chain.pipeline("press")
        assert {c["applicant_name"]: c["state"] for c in pipeline["cases"]} == EXPECTED_STATES
        counts = {s["state"]: s["count"] for s in pipeline["states"]}
        assert counts["member"] == 4
        assert counts["draft"] == 2
        assert sum(counts.values()) == len(EXPECTED_STATES)

    def test_the_military_software_park_is_overdue_while_two_ministries_have_not_answered(
        self, chain: SeededChain
    ) -> None:
        pipeline = chain.pipeline("press")
        overdue = {c["applicant_name"] for c in pipeline["cases"] if c["overdue"]}
        assert overdue == {MILITARY}
        assert pipeline["cases"][0]["applicant_name"] == MILITARY
        late = {s["state"]: s["overdue"] for s in pipeline["states"]}
        assert late["consultation"] == 1
        path = f"/api/v1/cases/{chain.case_id(MILITARY)}/consultations"
        consultations = {c["ministry"]: c for c in chain.json(path, "mic")["items"]}
        assert set(consultations) == {"mpi", "mof", "mod"}
        assert consultations["mpi"]["verdict"] == "agree_with_conditions"
        assert consultations["mpi"]["overdue"] is False
        assert consultations["mof"]["overdue"] is True
        assert consultations["mod"]["overdue"] is True

    def test_cases_past_intake_carry_a_dossier_code_and_drafts_none(
        self, chain: SeededChain
    ) -> None:
        codes = {c["applicant_name"]: c["code"] for c in chain.pipeline()["cases"]}
        assert codes[QUANG_NGAI] is None
        assert codes[BEN_TRE] is None
        issued = [code for name, code in codes.items() if name not in {QUANG_NGAI, BEN_TRE}]
        assert all(code.startswith("QTSC-") for code in issued)
        assert len(set(issued)) == len(issued)
        assert codes[HUECIT] == "QTSC-190624-0001"


class TestHistories:
    def test_every_case_history_verifies(self, chain: SeededChain) -> None:
        for case in chain.pipeline()["cases"]:
            path = f"/api/v1/cases/{case['id']}/history/verify"
            verification = chain.json(path, "hdqlc")
            assert verification["valid"] is True, case["applicant_name"]
            assert verification["first_bad_seq"] is None
            assert verification["entries"] >= 1

    @pytest.mark.parametrize(
        ("name", "decision_number", "approved_on"),
        [
            (QTSC, "333/QĐ-TTg", date(2016, 3, 3)),
            (VNU_ITP, "333/QĐ-TTg", date(2016, 3, 3)),
            (HUECIT, "1898/QĐ-TTg", date(2019, 12, 25)),
            (BINH_DINH, "…/QĐ-TTg", date(2023, 3, 18)),
        ],
        ids=["qtsc", "vnu-itp", "huecit", "binh-dinh"],
    )
    def test_members_carry_their_admission_on_its_real_date(
        self, chain: SeededChain, name: str, decision_number: str, approved_on: date
    ) -> None:
        history = chain.history(name)
        assert history[0]["action"] == "create"
        assert history[-1]["action"] == "activate"
        assert history[-1]["to_state"] == "member"
        approval = next(e for e in history if e["action"] == "approve")
        assert approval["actor"] == {"org": "vpcp", "role": "government", "user": None}
        assert local_day(approval["at"]) == approved_on
        assert approval["fields"]["decision_number"] == decision_number
        assert approval["fields"]["decision_date"] == approved_on.isoformat()
        days = [datetime.fromisoformat(e["at"]) for e in history]
        assert days == sorted(days)

    def test_each_step_is_recorded_by_the_organisation_that_took_it(
        self, chain: SeededChain
    ) -> None:
        actors = [(e["action"], e["actor"]["org"]) for e in chain.history(MILITARY)]
        upload = "upload_document"
        assert actors == [
            ("create", "khanh-hoa"),
            *[(upload, "khanh-hoa")] * 6,
            ("submit", "khanh-hoa"),
            ("accept", "hdqlc"),
            (upload, "hdqlc"),
            ("record_site_visit", "hdqlc"),
            (upload, "hdqlc"),
            ("propose_to_ministry", "hdqlc"),
            ("open_consultation", "mic"),
            (upload, "mpi"),
            ("answer_consultation", "mpi"),
        ]
        site_visit = next(e for e in chain.history(MILITARY) if e["action"] == "record_site_visit")
        assert local_day(site_visit["at"]) == date(2023, 5, 4)

    def test_placeholder_documents_are_pdfs_titled_with_the_vietnamese_label(
        self, chain: SeededChain
    ) -> None:
        case_id = chain.case_id(HAU_GIANG)
        listing = chain.json(f"/api/v1/cases/{case_id}/documents", "hau-giang")["items"]
        # The six of the checklist, the intake receipt and the supplement notice.
        assert len(listing) == 8
        proposal = next(d for d in listing if d["doc_type"] == "provincial_proposal")
        assert proposal["content_type"] == "application/pdf"
        assert proposal["uploaded_by"] == "hau-giang"
        content = chain.get(
            f"/api/v1/cases/{case_id}/documents/{proposal['id']}/content", "hau-giang"
        )
        assert content.status_code == 200
        text = PdfReader(io.BytesIO(content.content)).pages[0].extract_text()
        assert "Tờ trình của UBND tỉnh đề nghị kết nạp vào Chuỗi" in text
        assert HAU_GIANG in text
        assert "Tài liệu minh họa" in text


class TestTokensAndAccess:
    def test_one_token_per_demo_organisation_in_its_role_and_each_one_works(
        self, chain: SeededChain
    ) -> None:
        assert {slug: role for slug, role, _ in chain.tokens} == DEMO_ROLES
        assert len(chain.tokens) == len(DEMO_ROLES)
        for slug, _, _ in chain.tokens:
            assert chain.get("/api/v1/cases", slug).status_code == 200, slug

    def test_a_province_sees_only_its_own_cases(self, chain: SeededChain) -> None:
        own = chain.json("/api/v1/cases", "tp-hcm")["items"]
        assert {c["applicant_name"] for c in own} == {QTSC, VNU_ITP}
        assert {c["applicant_org"] for c in own} == {"tp-hcm"}
        pipeline = chain.pipeline("khanh-hoa")
        assert [c["applicant_name"] for c in pipeline["cases"]] == [MILITARY]
        other = chain.get(f"/api/v1/cases/{chain.case_id(HUECIT)}", "khanh-hoa")
        assert other.status_code == 404

    def test_each_demo_province_files_under_its_real_province(self, chain: SeededChain) -> None:
        assert PROVINCES.keys() == {s for s, role in DEMO_ROLES.items() if role == "applicant"}
        for slug, province in PROVINCES.items():
            own = chain.json("/api/v1/cases", slug)["items"]
            assert own, slug
            assert {c["province"] for c in own} == {province}, slug
            refused = chain.client.post(
                "/api/v1/cases",
                json={"applicant_name": "X", "province": "Hà Nam", "unit_kind": "ict_centre"},
                headers={"Authorization": f"Bearer {chain.token(slug)}"},
            )
            assert refused.status_code == 409, slug
        found = chain.json("/api/v1/cases", "press", province="thua thien hue")["items"]
        assert [c["applicant_name"] for c in found] == [HUECIT]

    def test_a_consulted_ministry_sees_only_the_cases_it_was_asked_about(
        self, chain: SeededChain
    ) -> None:
        seen = {c["applicant_name"] for c in chain.json("/api/v1/cases", "mod")["items"]}
        assert seen == {MILITARY}
        seen = {c["applicant_name"] for c in chain.json("/api/v1/cases", "mpi")["items"]}
        assert seen == {HUECIT, BINH_DINH, MILITARY, BINH_DUONG}


def table_counts(ctx: AppContext) -> dict[str, int]:
    with unit_of_work(ctx.engine, write=False) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Organisation, Case, Document, AuditEntry, Consultation, Event)
        }


class TestReseeding:
    def test_seeding_twice_duplicates_nothing_and_issues_fresh_tokens(
        self, ctx: AppContext, fresh_chain: SeededChain
    ) -> None:
        chain = fresh_chain
        before = table_counts(ctx)
        again = seed.seed_demo(ctx)
        assert table_counts(ctx) == before
        assert [(s, r) for s, r, _ in again] == [(s, r) for s, r, _ in chain.tokens]
        assert not {t for *_, t in again} & {t for *_, t in chain.tokens}
        with unit_of_work(ctx.engine, write=False) as session:
            tokens = session.scalar(select(func.count()).select_from(ApiToken))
        assert tokens == 2 * len(DEMO_ROLES)
        fresh = SeededChain(chain.client, again)
        assert {c["applicant_name"] for c in fresh.pipeline()["cases"]} == set(EXPECTED_STATES)
        assert chain.get("/api/v1/pipeline", "press").status_code == 200

    def test_the_application_clock_is_given_back(self, ctx: AppContext) -> None:
        original = ctx.clock
        seed.seed_demo(ctx)
        assert ctx.clock is original

    def test_a_step_that_fails_leaves_nothing_behind(
        self, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        good = seed.CASES[0]
        data = good.data.model_copy(update={"applicant_name": "Hồ sơ lỗi"})
        broken = DemoCase(good.applicant, ago(3), data, (act(ago(2), "hdqlc", "accept"),))
        monkeypatch.setattr(seed, "CASES", (good, broken))
        original = ctx.clock
        with pytest.raises(TransitionNotAllowed):
            seed.seed_demo(ctx)
        assert ctx.clock is original
        assert set(table_counts(ctx).values()) == {0}
