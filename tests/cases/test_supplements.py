"""Supplement requests: the applicant completes its dossier and it goes back to whoever asked."""

import pytest

from tests.factories import Api, error_details


class TestResubmit:
    @pytest.mark.parametrize(
        ("asked_by", "asking_state"),
        [("council", "council_review"), ("ministry", "ministry_appraisal")],
    )
    def test_resubmitting_returns_the_dossier_to_the_state_that_asked(
        self, api: Api, asked_by: str, asking_state: str
    ) -> None:
        case = api.case_awaiting_supplement(asked_by)
        assert case["state"] == "supplement_requested"
        assert api.upload(case["id"], "site_documents").status_code == 201

        case = api.advance(case["id"], "resubmit", "applicant")

        assert case["state"] == asking_state
        last = api.history(case["id"])[-1]
        assert (last["action"], last["from_state"], last["to_state"]) == (
            "resubmit",
            "supplement_requested",
            asking_state,
        )

    @pytest.mark.parametrize(
        ("asked_by", "asking_state"),
        [("council", "council_review"), ("ministry", "ministry_appraisal")],
    )
    def test_the_applicant_is_told_where_resubmitting_will_send_the_dossier(
        self, api: Api, asked_by: str, asking_state: str
    ) -> None:
        case = api.case_awaiting_supplement(asked_by)
        actions = {a["action"]: a for a in api.read(case["id"], "applicant")["allowed_actions"]}
        assert sorted(actions) == ["resubmit", "withdraw"]
        assert actions["resubmit"]["dest"] == asking_state
        assert actions["resubmit"]["missing"] == []

    def test_a_second_request_from_the_ministry_returns_to_the_ministry(self, api: Api) -> None:
        case = api.case_awaiting_supplement("council")
        cid = case["id"]
        assert api.advance(cid, "resubmit", "applicant")["state"] == "council_review"
        assert api.upload(cid, "council_proposal", "council").status_code == 201
        api.advance(cid, "propose_to_ministry", "council")
        api.advance(cid, "request_supplement", "ministry", reason="Bổ sung phương án vốn")

        case = api.advance(cid, "resubmit", "applicant")

        assert case["state"] == "ministry_appraisal"
        assert [a["action"] for a in case["allowed_actions"]] == []
        assert "submit_to_pm" in [a["action"] for a in api.read(cid, "ministry")["allowed_actions"]]

    def test_the_reason_for_the_request_is_kept_in_the_history(self, api: Api) -> None:
        case = api.case_awaiting_supplement("council")
        entry = api.history(case["id"])[-1]
        assert entry["action"] == "request_supplement"
        assert entry["reason"] == "Thiếu hồ sơ mặt bằng"
        assert (entry["actor"]["org"], entry["actor"]["role"]) == ("hdqlc", "council")

    def test_the_dossier_code_is_kept_through_a_supplement(self, api: Api) -> None:
        case = api.case_awaiting_supplement("council")
        code = case["code"]
        assert code is not None
        assert api.advance(case["id"], "resubmit", "applicant")["code"] == code

    def test_the_applicant_may_withdraw_instead_of_resubmitting(self, api: Api) -> None:
        case = api.case_awaiting_supplement("ministry")
        case = api.advance(case["id"], "withdraw", "applicant", reason="Tỉnh rút hồ sơ")
        assert case["state"] == "withdrawn"

    def test_the_council_cannot_resubmit_for_the_applicant(self, api: Api) -> None:
        case = api.case_awaiting_supplement("council")
        before = api.snapshot(case["id"])
        response = api.fire(case["id"], "resubmit", "council", case["version"])
        error_details(response, 403, "forbidden")
        assert api.snapshot(case["id"]) == before
