"""Requirements met only by new documents: each site visit its own minutes, and a supplement
request answered with the documents it named, uploaded after it asked."""

from datetime import UTC, datetime
from typing import Any

import pytest

from app.context import AppContext
from tests.factories import Api, Clock, error_details

# Monday 2 March 2026, 09:00 in Hà Nội.
MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock(ctx: AppContext) -> Clock:
    ctx.clock = Clock(MONDAY)
    return ctx.clock


def missing_of(case: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return next(a for a in case["allowed_actions"] if a["action"] == action)["missing"]


def refused_missing(response: Any) -> dict[str, str]:
    details = error_details(response, 409, "requirements_missing")
    return {m["name"]: m.get("message", "") for m in details["missing"]}


def upload(api: Api, case_id: str, doc_type: str, who: str) -> None:
    response = api.upload(case_id, doc_type, who)
    assert response.status_code == 201, response.text


class TestEachSiteVisitNeedsItsOwnMinutes:
    def test_a_second_site_visit_with_the_first_visits_minutes_is_refused_and_changes_nothing(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_council_review()
        upload(api, case["id"], "site_visit_minutes", "council")
        api.advance(case["id"], "record_site_visit", "council", comment="Lần 1")
        clock.advance(days=1)
        before = api.snapshot(case["id"])

        response = api.fire(case["id"], "record_site_visit", "council", comment="Lần 2")

        missing = refused_missing(response)
        assert list(missing) == ["site_visit_minutes"]
        assert "before the last record_site_visit (2026-03-02" in missing["site_visit_minutes"]
        assert "upload a new one" in missing["site_visit_minutes"]
        assert api.snapshot(case["id"]) == before

    def test_the_case_read_tells_the_council_the_minutes_are_stale_and_why(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_council_review()
        upload(api, case["id"], "site_visit_minutes", "council")
        api.advance(case["id"], "record_site_visit", "council")

        [stale] = missing_of(api.read(case["id"], "council"), "record_site_visit")

        assert stale["kind"] == "document"
        assert stale["name"] == "site_visit_minutes"
        assert stale["message"].startswith("uploaded 2026-03-02 09:00, before the last")

    def test_new_minutes_uploaded_after_the_first_visit_let_the_second_be_recorded(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_council_review()
        upload(api, case["id"], "site_visit_minutes", "council")
        api.advance(case["id"], "record_site_visit", "council")
        assert missing_of(api.read(case["id"], "council"), "record_site_visit") != []

        upload(api, case["id"], "site_visit_minutes", "council")

        assert missing_of(api.read(case["id"], "council"), "record_site_visit") == []
        case = api.advance(case["id"], "record_site_visit", "council", comment="Lần 2")
        assert [h["action"] for h in api.history(case["id"])].count("record_site_visit") == 2

    def test_the_first_site_visit_without_minutes_says_they_are_not_uploaded(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_council_review()
        missing = refused_missing(api.fire(case["id"], "record_site_visit", "council"))
        assert missing["site_visit_minutes"].startswith(
            "not uploaded since the case entered council_review (2026-03-02"
        )

    def test_minutes_uploaded_before_a_supplement_round_are_stale_once_the_case_is_back(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_council_review()
        upload(api, case["id"], "site_visit_minutes", "council")
        api.advance(case["id"], "request_supplement", "council", reason="Thiếu hồ sơ")
        clock.advance(days=3)
        api.advance(case["id"], "resubmit", "applicant")

        missing = refused_missing(api.fire(case["id"], "record_site_visit", "council"))

        assert "before the case entered council_review (2026-03-05" in missing["site_visit_minutes"]


class TestResubmitNeedsTheDocumentsTheRequestNamed:
    @pytest.mark.parametrize("asked_by", ["council", "ministry"])
    def test_resubmitting_without_uploading_them_again_is_refused_listing_each(
        self, api: Api, clock: Clock, asked_by: str
    ) -> None:
        case = api.case_in_council_review() if asked_by == "council" else None
        case = case or api.case_in_ministry_appraisal()
        clock.advance(days=1)
        case = api.advance(
            case["id"],
            "request_supplement",
            asked_by,
            reason="Bổ sung mặt bằng và phương án đầu tư",
            supplement_documents=["site_documents", "investment_plan"],
        )
        before = api.snapshot(case["id"])

        missing = refused_missing(api.fire(case["id"], "resubmit", "applicant"))

        assert sorted(missing) == ["investment_plan", "site_documents"]
        for message in missing.values():
            assert message.startswith("uploaded 2026-03-02 09:00, before the request_supplement")
            assert "that asked for it" in message
        assert api.snapshot(case["id"]) == before

    def test_the_applicant_is_told_which_documents_are_still_to_upload_again(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_council_review()
        api.advance(
            case["id"],
            "request_supplement",
            "council",
            reason="Bổ sung",
            supplement_documents=["site_documents", "investment_plan"],
        )
        upload(api, case["id"], "site_documents", "applicant")

        missing = missing_of(api.read(case["id"], "applicant"), "resubmit")

        assert [(m["kind"], m["name"]) for m in missing] == [("document", "investment_plan")]

    def test_once_each_named_document_is_uploaded_again_the_dossier_goes_back(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_council_review()
        api.advance(
            case["id"],
            "request_supplement",
            "council",
            reason="Bổ sung",
            supplement_documents=["site_documents", "investment_plan"],
        )
        upload(api, case["id"], "site_documents", "applicant")
        error_details(api.fire(case["id"], "resubmit", "applicant"), 409, "requirements_missing")

        upload(api, case["id"], "investment_plan", "applicant")

        assert api.advance(case["id"], "resubmit", "applicant")["state"] == "council_review"

    def test_a_second_request_asks_only_for_what_it_names(self, api: Api, clock: Clock) -> None:
        case = api.case_in_council_review()
        cid = case["id"]
        api.advance(
            cid,
            "request_supplement",
            "council",
            reason="1",
            supplement_documents=["site_documents"],
        )
        upload(api, cid, "site_documents", "applicant")
        api.advance(cid, "resubmit", "applicant")
        api.advance(
            cid,
            "request_supplement",
            "council",
            reason="2",
            supplement_documents=["investment_plan"],
        )

        missing = refused_missing(api.fire(cid, "resubmit", "applicant"))

        assert list(missing) == ["investment_plan"]

    def test_a_request_naming_a_document_the_applicant_cannot_upload_then_is_refused(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_council_review()
        before = api.snapshot(case["id"])
        response = api.fire(
            case["id"],
            "request_supplement",
            "council",
            reason="Bổ sung biên bản",
            supplement_documents=["site_visit_minutes"],
        )
        details = error_details(response, 422, "invalid")
        assert details == {"supplement_documents": ["site_visit_minutes"]}
        assert api.snapshot(case["id"]) == before
