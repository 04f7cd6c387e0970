"""The second procedure, defined only by its file (workflows/concentrated-it-zone-recognition
.v1.yaml): recognition of a concentrated IT zone under Decree 154/2013, Art. 16–18, driven
through the same API as the Chain's admission, with its own states, document types,
deadlines and letters."""

from datetime import date
from typing import Any

from app.context import AppContext
from tests.factories import Api, error_details

KEY = "concentrated-it-zone-recognition"
DOSSIER = ("zone_proposal", "zone_scheme", "detailed_plan", "investor_profile")


def new_zone(api: Api) -> dict[str, Any]:
    return api.create_case(
        applicant_name="Khu CNTT tập trung tỉnh Hậu Giang",
        unit_kind="concentrated_it_zone",
        workflow=KEY,
    )


def submitted(api: Api) -> dict[str, Any]:
    case = new_zone(api)
    for doc_type in DOSSIER:
        assert api.upload(case["id"], doc_type).status_code == 201
    return api.advance(case["id"], "submit", "applicant")


def in_review(api: Api) -> dict[str, Any]:
    return api.advance(submitted(api)["id"], "accept", "ministry")


def in_appraisal(api: Api) -> dict[str, Any]:
    case = api.advance(in_review(api)["id"], "open_consultation", "ministry", ministries=["mpi"])
    (consultation,) = api.consultations(case["id"])
    assert api.upload(case["id"], "sector_opinion", "mpi").status_code == 201
    assert api.answer(case["id"], consultation["id"], "mpi").status_code == 200
    return api.advance(case["id"], "close_consultation", "ministry")


def in_pm_decision(api: Api) -> dict[str, Any]:
    case = in_appraisal(api)
    for doc_type in ("mic_appraisal_report", "pm_proposal"):
        assert api.upload(case["id"], doc_type, "ministry").status_code == 201
    return api.advance(case["id"], "submit_to_pm", "ministry")


def due_in(ctx: AppContext, days: int) -> str:
    return ctx.calendar.add_working_days(ctx.today(), days).isoformat()


class TestLifecycle:
    def test_a_zone_goes_from_draft_to_the_prime_minister_s_recognition(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = in_pm_decision(api)
        assert case["state"] == "pm_decision"
        assert case["state_label"] == {
            "vi": "Trình Thủ tướng Chính phủ quyết định",
            "en": "Before the Prime Minister",
        }
        assert api.upload(case["id"], "recognition_decision", "government").status_code == 201
        done = api.advance(
            case["id"],
            "approve",
            "government",
            decision_number="123/QĐ-TTg",
            decision_date=date.today().isoformat(),
        )
        assert done["state"] == "recognised"
        assert done["workflow"] == {"key": KEY, "version": 1}
        assert done["code"].startswith("QTSC-")
        actions = [e["action"] for e in api.history(case["id"])]
        assert actions[-6:] == [
            "close_consultation",
            "upload_document",
            "upload_document",
            "submit_to_pm",
            "upload_document",
            "approve",
        ]
        assert api.verify(case["id"])["valid"] is True

    def test_the_ministry_receives_the_dossier_with_a_receipt_and_five_working_days(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = in_review(api)
        assert case["state"] == "mic_review"
        assert case["due_at"] == due_in(ctx, 5)
        receipts = [d for d in api.documents(case["id"]) if d["doc_type"] == "dossier_receipt"]
        assert len(receipts) == 1
        verified = api.client.get(
            f"/api/v1/cases/{case['id']}/letters/{receipts[0]['id']}/verify",
            headers=api.headers("ministry"),
        )
        assert verified.status_code == 200, verified.text
        assert verified.json()["identical"] is True

    def test_each_consulted_ministry_has_ten_working_days(self, api: Api, ctx: AppContext) -> None:
        case = in_review(api)
        case = api.advance(case["id"], "open_consultation", "ministry", ministries=["mpi", "mof"])
        assert case["state"] == "consultation"
        dues = {c["ministry"]: c["due_at"] for c in api.consultations(case["id"])}
        assert dues == {"mpi": due_in(ctx, 10), "mof": due_in(ctx, 10)}

    def test_a_supplement_request_writes_its_notice_and_the_dossier_returns_to_review(
        self, api: Api
    ) -> None:
        case = in_review(api)
        asked = api.advance(
            case["id"],
            "request_supplement",
            "ministry",
            reason="Quy hoạch chi tiết chưa được phê duyệt",
            supplement_documents=["detailed_plan"],
        )
        assert asked["state"] == "supplement_requested"
        types = [d["doc_type"] for d in api.documents(asked["id"])]
        assert "supplement_request" in types
        refused = api.fire(asked["id"], "resubmit", "applicant")
        missing = error_details(refused, 409, "requirements_missing")["missing"]
        assert [m["name"] for m in missing] == ["detailed_plan"]
        assert api.upload(asked["id"], "detailed_plan").status_code == 201
        assert api.advance(asked["id"], "resubmit", "applicant")["state"] == "mic_review"


class TestRefusals:
    def test_submitting_without_the_dossier_lists_every_missing_document(self, api: Api) -> None:
        case = new_zone(api)
        details = error_details(
            api.fire(case["id"], "submit", "applicant"), 409, "requirements_missing"
        )
        assert sorted(m["name"] for m in details["missing"]) == sorted(DOSSIER)

    def test_the_council_has_no_part_in_this_procedure(self, api: Api) -> None:
        case = submitted(api)
        error_details(api.fire(case["id"], "accept", "council"), 403, "forbidden")

    def test_an_action_of_another_state_lists_the_allowed_ones(self, api: Api) -> None:
        case = submitted(api)
        details = error_details(
            api.fire(case["id"], "submit_to_pm", "ministry"), 409, "transition_not_allowed"
        )
        assert "accept" in str(details)

    def test_the_decision_needs_its_number_date_and_document(self, api: Api) -> None:
        case = in_pm_decision(api)
        details = error_details(
            api.fire(case["id"], "approve", "government"), 409, "requirements_missing"
        )
        assert sorted(m["name"] for m in details["missing"]) == [
            "decision_date",
            "decision_number",
            "recognition_decision",
        ]

    def test_a_document_of_the_chain_s_checklist_is_no_document_of_this_procedure(
        self, api: Api
    ) -> None:
        case = new_zone(api)
        assert api.upload(case["id"], "membership_scheme").status_code == 409

    def test_the_prime_minister_may_refuse_recognition(self, api: Api) -> None:
        case = in_pm_decision(api)
        assert api.upload(case["id"], "recognition_decision", "government").status_code == 201
        done = api.advance(
            case["id"],
            "reject",
            "government",
            decision_number="124/QĐ-TTg",
            decision_date=date.today().isoformat(),
            reason="Chưa đáp ứng điều kiện",
        )
        assert done["state"] == "not_recognised"
