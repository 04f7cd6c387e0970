"""Document review: a document marked not acceptable counts as missing, says why, is audited."""

from typing import Any

from app.context import AppContext
from tests.factories import Api


def current(api: Api, case_id: str, doc_type: str, who: str = "applicant") -> dict[str, Any]:
    return next(
        d for d in api.documents(case_id, who) if d["doc_type"] == doc_type and not d["superseded"]
    )


def review(
    api: Api,
    case_id: str,
    doc_id: str,
    who: str = "council",
    version: int | None = None,
    **body: Any,
) -> Any:
    if version is None:
        version = api.read(case_id, who)["version"]
    return api.client.post(
        f"/api/v1/cases/{case_id}/documents/{doc_id}/review",
        json={"reason": "Bản scan bị mờ, không đọc được", **body},
        headers=api.headers(who, version),
    )


class TestRejecting:
    def test_a_refused_document_counts_as_missing_and_the_case_moves_to_its_next_version(
        self, api: Api
    ) -> None:
        case = api.case_in_council_review()
        assert api.upload(case["id"], "council_proposal", "council").status_code == 201
        before = api.read(case["id"])
        propose = next(a for a in before["allowed_actions"] if a["action"] == "propose_to_ministry")
        assert propose["missing"] == []
        doc = current(api, case["id"], "council_proposal", "council")

        response = review(api, case["id"], doc["id"])

        assert response.status_code == 200, response.text
        assert response.json()["rejected"] is True
        assert response.headers["etag"] == f'"{before["version"] + 1}"'
        after = api.read(case["id"])
        assert after["version"] == before["version"] + 1
        propose = next(a for a in after["allowed_actions"] if a["action"] == "propose_to_ministry")
        assert [m["name"] for m in propose["missing"]] == ["council_proposal"]
        refused = api.fire(case["id"], "propose_to_ministry", "council")
        assert refused.status_code == 409

    def test_the_applicant_reads_why_and_the_history_records_the_review(self, api: Api) -> None:
        case = api.submitted_case()
        doc = current(api, case["id"], "site_documents")
        assert review(api, case["id"], doc["id"]).status_code == 200
        mine = current(api, case["id"], "site_documents")
        assert mine["rejected"] is True
        assert mine["rejection_reason"] == "Bản scan bị mờ, không đọc được"
        entry = api.client.get(
            f"/api/v1/cases/{case['id']}/history", headers=api.headers("applicant")
        ).json()["items"][-1]
        assert entry["action"] == "review_document"
        assert entry["reason"] == "Bản scan bị mờ, không đọc được"
        assert entry["fields"]["doc_type"] == "site_documents"
        assert (entry["from_state"], entry["to_state"]) == ("submitted", "submitted")
        verdict = api.client.get(
            f"/api/v1/cases/{case['id']}/history/verify", headers=api.headers("council")
        ).json()
        assert verdict["valid"] is True

    def test_the_ministry_reviews_only_in_the_states_where_it_acts(self, api: Api) -> None:
        case = api.case_in_council_review()
        doc = current(api, case["id"], "investment_plan")
        refused = review(api, case["id"], doc["id"], "ministry")
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "not_allowed_in_state"
        assert api.upload(case["id"], "council_proposal", "council").status_code == 201
        api.advance(case["id"], "propose_to_ministry", "council")
        assert review(api, case["id"], doc["id"], "ministry").status_code == 200


class TestRefusals:
    def test_the_applicant_may_not_review(self, api: Api, ctx: AppContext) -> None:
        case = api.submitted_case()
        doc = current(api, case["id"], "site_documents")
        response = review(api, case["id"], doc["id"], "applicant")
        assert response.status_code == 403
        assert current(api, case["id"], "site_documents")["rejected"] is False

    def test_a_stale_version_is_refused_and_changes_nothing(self, api: Api) -> None:
        case = api.submitted_case()
        doc = current(api, case["id"], "site_documents")
        stale = api.read(case["id"])["version"] - 1
        assert review(api, case["id"], doc["id"], version=stale).status_code == 412
        assert current(api, case["id"], "site_documents")["rejected"] is False

    def test_a_document_is_refused_once_and_a_letter_never(self, api: Api) -> None:
        case = api.case_in_council_review()
        doc = current(api, case["id"], "site_documents")
        assert review(api, case["id"], doc["id"]).status_code == 200
        again = review(api, case["id"], doc["id"])
        assert again.status_code == 409
        receipt = current(api, case["id"], "intake_receipt")
        assert review(api, case["id"], receipt["id"]).status_code == 409

    def test_a_blank_reason_is_refused(self, api: Api) -> None:
        case = api.submitted_case()
        doc = current(api, case["id"], "site_documents")
        assert review(api, case["id"], doc["id"], reason="   ").status_code == 422
