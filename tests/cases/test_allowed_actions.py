"""A case read tells the caller which actions it may take now and what each still lacks."""

from typing import Any

from tests.factories import SUBMIT_DOCUMENTS, Api, error_details


def actions(api: Api, case_id: str, who: str) -> dict[str, dict[str, Any]]:
    return {a["action"]: a for a in api.read(case_id, who)["allowed_actions"]}


def lacking(action: dict[str, Any]) -> list[str]:
    return sorted(m["name"] for m in action["missing"])


class TestAllowedActionsInCouncilReview:
    def test_the_council_sees_its_five_actions_and_the_documents_two_of_them_lack(
        self, api: Api
    ) -> None:
        case = api.case_in_council_review()
        allowed = actions(api, case["id"], "council")
        assert sorted(allowed) == [
            "decline",
            "extend_deadline",
            "propose_to_ministry",
            "record_site_visit",
            "request_supplement",
        ]
        assert lacking(allowed["record_site_visit"]) == ["site_visit_minutes"]
        assert lacking(allowed["propose_to_ministry"]) == ["council_proposal"]
        assert allowed["record_site_visit"]["missing"][0]["kind"] == "document"
        assert lacking(allowed["decline"]) == []
        assert lacking(allowed["request_supplement"]) == []

    def test_each_action_names_where_it_leads_and_the_fields_it_needs(self, api: Api) -> None:
        case = api.case_in_council_review()
        allowed = actions(api, case["id"], "council")
        assert {a: (v["dest"], v["fields"]) for a, v in allowed.items()} == {
            "record_site_visit": ("council_review", []),
            "request_supplement": ("supplement_requested", ["reason"]),
            "propose_to_ministry": ("ministry_appraisal", []),
            "decline": ("declined", ["reason"]),
            "extend_deadline": ("council_review", ["reason", "new_due_date"]),
        }

    def test_an_uploaded_document_is_no_longer_missing(self, api: Api) -> None:
        case = api.case_in_council_review()
        assert api.upload(case["id"], "site_visit_minutes", "council").status_code == 201
        allowed = actions(api, case["id"], "council")
        assert lacking(allowed["record_site_visit"]) == []
        assert lacking(allowed["propose_to_ministry"]) == ["council_proposal"]

        assert api.upload(case["id"], "council_proposal", "council").status_code == 201
        assert lacking(actions(api, case["id"], "council")["propose_to_ministry"]) == []

    def test_what_is_listed_as_missing_is_what_the_transition_refuses_for(self, api: Api) -> None:
        case = api.case_in_council_review()
        listed = actions(api, case["id"], "council")["propose_to_ministry"]["missing"]
        response = api.fire(case["id"], "propose_to_ministry", "council", case["version"])
        refused = error_details(response, 409, "requirements_missing")["missing"]
        assert [(m["kind"], m["name"]) for m in refused] == [(m["kind"], m["name"]) for m in listed]

    def test_the_other_roles_have_nothing_to_do_in_council_review(self, api: Api) -> None:
        case = api.case_in_council_review()
        for who in ("applicant", "ministry", "government", "viewer", "admin"):
            assert actions(api, case["id"], who) == {}, who


class TestAllowedActionsInDraft:
    def test_the_applicant_sees_submit_lacking_the_six_documents(self, api: Api) -> None:
        case = api.create_case()
        allowed = {a["action"]: a for a in case["allowed_actions"]}
        assert sorted(allowed) == ["submit", "withdraw"]
        assert lacking(allowed["submit"]) == sorted(SUBMIT_DOCUMENTS)
        assert {m["kind"] for m in allowed["submit"]["missing"]} == {"document"}
        assert allowed["submit"]["dest"] == "submitted"
        assert allowed["withdraw"]["fields"] == ["reason"]
        assert allowed["withdraw"]["missing"] == []

    def test_submit_lacks_less_as_documents_arrive(self, api: Api) -> None:
        case = api.create_case()
        for done, doc_type in enumerate(SUBMIT_DOCUMENTS, start=1):
            assert api.upload(case["id"], doc_type).status_code == 201
            submit = actions(api, case["id"], "applicant")["submit"]
            assert lacking(submit) == sorted(SUBMIT_DOCUMENTS[done:])

    def test_the_create_response_and_a_read_agree(self, api: Api) -> None:
        case = api.create_case()
        assert api.read(case["id"], "applicant")["allowed_actions"] == case["allowed_actions"]

    def test_the_council_sees_a_draft_but_has_nothing_to_do_with_it(self, api: Api) -> None:
        case = api.create_case()
        assert actions(api, case["id"], "council") == {}

    def test_the_response_to_a_transition_lists_the_actions_of_the_new_state(
        self, api: Api
    ) -> None:
        case = api.submitted_case()
        assert case["allowed_actions"] == []
        assert sorted(actions(api, case["id"], "council")) == [
            "accept",
            "extend_deadline",
            "refuse_intake",
        ]
