"""Editing a dossier's descriptive fields while the applicant holds it."""

from typing import Any

import pytest

from tests.factories import Api, error_details


class TestEditWhileTheApplicantHoldsTheDossier:
    def test_a_draft_is_edited_and_moves_to_its_next_version(self, api: Api) -> None:
        case = api.create_case()
        response = api.patch(
            case["id"],
            version=case["version"],
            investor="Quỹ đầu tư phát triển Hậu Giang",
            area_m2=300000.5,
        )
        assert response.status_code == 200, response.text
        edited = response.json()
        assert edited["version"] == case["version"] + 1
        assert response.headers["ETag"] == f'"{edited["version"]}"'
        assert edited["investor"] == "Quỹ đầu tư phát triển Hậu Giang"
        assert float(edited["area_m2"]) == 300000.5
        assert edited["applicant_name"] == case["applicant_name"]
        assert edited["state"] == "draft"
        read = api.read(case["id"], "applicant")
        assert (read["version"], read["investor"]) == (edited["version"], edited["investor"])
        assert float(read["area_m2"]) == 300000.5

    def test_an_edit_is_recorded_in_the_history_with_the_fields_it_changed(self, api: Api) -> None:
        case = api.create_case()
        assert api.patch(case["id"], address="Vị Thanh", investor="Quỹ").status_code == 200
        entry = api.history(case["id"])[-1]
        assert (entry["action"], entry["from_state"], entry["to_state"]) == (
            "edit",
            "draft",
            "draft",
        )
        assert entry["fields"] == {"changed": ["address", "investor"]}
        assert (entry["actor"]["org"], entry["actor"]["role"]) == ("hau-giang", "applicant")
        assert api.verify(case["id"])["valid"] is True

    def test_an_optional_field_can_be_cleared(self, api: Api) -> None:
        case = api.create_case(investor="Quỹ")
        response = api.patch(case["id"], investor=None)
        assert response.status_code == 200, response.text
        assert response.json()["investor"] is None

    def test_a_dossier_awaiting_a_supplement_can_be_edited(self, api: Api) -> None:
        case = api.case_awaiting_supplement("council")
        response = api.patch(case["id"], area_m2=150000)
        assert response.status_code == 200, response.text
        assert response.json()["state"] == "supplement_requested"


class TestWriteResponses:
    """A write answers with the case as a later read of the same version shows it."""

    def test_the_create_response_is_what_a_read_shows(self, api: Api) -> None:
        case = api.create_case(area_m2=1102.5, address="38 Trường Chinh, Quy Nhơn")
        assert api.read(case["id"], "applicant") == case

    def test_the_edit_response_is_what_a_read_shows(self, api: Api) -> None:
        case = api.create_case()
        response = api.patch(case["id"], version=case["version"], area_m2=54, investor="QTSC")
        assert response.status_code == 200, response.text
        assert api.read(case["id"], "applicant") == response.json()


class TestEditRefused:
    @pytest.mark.parametrize("setup", ["submitted_case", "case_in_council_review"])
    def test_a_dossier_the_applicant_no_longer_holds_cannot_be_edited(
        self, api: Api, setup: str
    ) -> None:
        case = getattr(api, setup)()
        before = api.snapshot(case["id"])
        response = api.patch(case["id"], "applicant", case["version"], investor="Khác")
        details = error_details(response, 409, "not_allowed_in_state")
        assert details["state"] == case["state"]
        assert api.snapshot(case["id"]) == before

    @pytest.mark.parametrize("who", ["council", "ministry", "government", "viewer", "admin"])
    def test_only_the_applicant_edits(self, api: Api, who: str) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        response = api.patch(case["id"], who, case["version"], investor="Khác")
        error_details(response, 403, "forbidden")
        assert api.snapshot(case["id"]) == before

    def test_another_province_gets_404_as_for_an_unknown_case(self, api: Api) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        response = api.patch(case["id"], "other_applicant", case["version"], investor="Khác")
        error_details(response, 404, "not_found")
        assert api.snapshot(case["id"]) == before

    def test_a_stale_if_match_is_refused_with_the_current_version(self, api: Api) -> None:
        case = api.create_case()
        assert api.patch(case["id"], version=case["version"], investor="Một").status_code == 200
        before = api.snapshot(case["id"])
        response = api.patch(case["id"], version=case["version"], investor="Hai")
        details = error_details(response, 412, "version_mismatch")
        assert details["current_version"] == case["version"] + 1
        assert api.snapshot(case["id"]) == before

    def test_an_edit_without_if_match_is_refused_with_428(self, api: Api) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        response = api.client.patch(
            f"/api/v1/cases/{case['id']}",
            json={"investor": "Khác"},
            headers=api.headers("applicant"),
        )
        error_details(response, 428, "precondition_required")
        assert api.snapshot(case["id"]) == before

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"state": "member"}, "body.state"),
            ({"version": 9}, "body.version"),
            ({"code": "QTSC-260101-0001"}, "body.code"),
            ({"workflow": "other"}, "body.workflow"),
            ({"unit_kind": "castle"}, "body.unit_kind"),
            ({"area_m2": 0}, "body.area_m2"),
        ],
        ids=["state", "version", "code", "workflow", "unit-kind", "zero-area"],
    )
    def test_a_field_that_cannot_be_set_is_refused_naming_it(
        self, api: Api, body: dict[str, Any], field: str
    ) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        response = api.client.patch(
            f"/api/v1/cases/{case['id']}", json=body, headers=api.headers("applicant", 1)
        )
        assert field in [d["field"] for d in error_details(response, 422, "invalid")]
        assert api.snapshot(case["id"]) == before

    @pytest.mark.parametrize("name", ["applicant_name", "province", "unit_kind"])
    def test_a_required_field_cannot_be_cleared(self, api: Api, name: str) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        response = api.patch(case["id"], version=case["version"], **{name: None})
        assert f"body.{name}" in [d["field"] for d in error_details(response, 422, "invalid")]
        assert api.snapshot(case["id"]) == before

    def test_an_empty_edit_is_refused(self, api: Api) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        response = api.patch(case["id"], version=case["version"])
        error_details(response, 422, "invalid")
        assert api.snapshot(case["id"]) == before
