"""Every refusal of the API contract (DESIGN §7): the right status and error code, and nothing
changed — the case, its history, its documents and its events read the same before and after."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import Response

from app.auth.repository import TokenRepository
from app.auth.service import issue_token
from app.auth.tokens import hash_token
from app.context import AppContext
from app.core.db import unit_of_work
from tests.factories import SUBMIT_DOCUMENTS, Api, error_details, pdf_bytes

COUNCIL_REVIEW_ACTIONS = [
    "decline",
    "extend_deadline",
    "propose_to_ministry",
    "record_site_visit",
    "request_supplement",
]


# A transition a fresh draft would take: tests that break one thing about it use this.
WITHDRAW = {"action": "withdraw", "reason": "Tỉnh rút hồ sơ"}


def unknown_id() -> str:
    return str(uuid.uuid4())


def post_transition(api: Api, case_id: str, body: Any, headers: dict[str, str]) -> Response:
    return api.client.post(f"/api/v1/cases/{case_id}/transitions", json=body, headers=headers)


class TestUnauthenticated:
    @pytest.mark.parametrize(
        "authorization",
        [
            None,
            "Bearer qa_not-a-token-anyone-was-given",
            "Basic YXBwbGljYW50OnNlY3JldA==",
            "Bearer",
        ],
        ids=["no-header", "unknown-token", "basic-scheme", "empty-bearer"],
    )
    def test_a_transition_without_a_valid_token_is_refused_and_changes_nothing(
        self, api: Api, authorization: str | None
    ) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        headers = {"If-Match": f'"{case["version"]}"'}
        if authorization is not None:
            headers["Authorization"] = authorization
        response = api.client.post(
            f"/api/v1/cases/{case['id']}/transitions",
            json={"action": "withdraw", "reason": "Rút"},
            headers=headers,
        )
        error_details(response, 401, "unauthenticated")
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert api.snapshot(case["id"]) == before

    def test_every_case_endpoint_answers_401_without_a_token(self, api: Api) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        create = {"applicant_name": "X", "province": "Hậu Giang", "unit_kind": "ict_centre"}
        for method, path, body in [
            ("GET", "/api/v1/cases", None),
            ("POST", "/api/v1/cases", create),
            ("GET", "/api/v1/cases/{id}", None),
            ("PATCH", "/api/v1/cases/{id}", {"investor": "Quỹ đầu tư"}),
            ("POST", "/api/v1/cases/{id}/transitions", WITHDRAW),
            ("GET", "/api/v1/cases/{id}/documents", None),
            ("GET", "/api/v1/cases/{id}/history", None),
            ("GET", "/api/v1/cases/{id}/history/verify", None),
        ]:
            response = api.client.request(
                method,
                path.format(id=case["id"]),
                json=body,
                headers={"If-Match": f'"{case["version"]}"'},
            )
            error_details(response, 401, "unauthenticated")
        assert api.snapshot(case["id"]) == before
        assert len(api.list_cases().json()["items"]) == 1

    def test_an_upload_without_a_token_is_refused_and_stores_nothing(self, api: Api) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        response = api.client.post(
            f"/api/v1/cases/{case['id']}/documents",
            data={"doc_type": "provincial_proposal"},
            files={"file": ("proposal.pdf", pdf_bytes())},
        )
        error_details(response, 401, "unauthenticated")
        assert api.snapshot(case["id"]) == before

    def test_a_revoked_token_is_refused_though_it_worked_before(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.create_case()
        for doc_type in SUBMIT_DOCUMENTS:
            assert api.upload(case["id"], doc_type).status_code == 201
        version = api.read(case["id"], "applicant")["version"]
        with unit_of_work(ctx.engine) as session:
            tokens = TokenRepository(session)
            found = tokens.by_hash(hash_token(api.tokens["applicant"]))
            assert found is not None
            assert tokens.revoke(found.id, datetime.now(UTC))
        before = api.snapshot(case["id"])

        response = api.fire(case["id"], "submit", "applicant", version)

        error_details(response, 401, "unauthenticated")
        assert api.snapshot(case["id"]) == before
        read = api.client.get(f"/api/v1/cases/{case['id']}", headers=api.headers("applicant"))
        error_details(read, 401, "unauthenticated")

    def test_an_expired_token_is_refused(self, api: Api, ctx: AppContext) -> None:
        with unit_of_work(ctx.engine) as session:
            _, token = issue_token(
                session,
                org_slug="hau-giang",
                role="applicant",
                expires_at=datetime.now(UTC) - timedelta(minutes=1),
            )
        response = api.client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
        error_details(response, 401, "unauthenticated")


class TestForbiddenRole:
    def test_only_the_council_may_accept_a_submitted_dossier(self, api: Api) -> None:
        case = api.submitted_case()
        before = api.snapshot(case["id"])
        for who in ("applicant", "ministry", "government", "viewer", "admin"):
            response = api.fire(case["id"], "accept", who, case["version"])
            error_details(response, 403, "forbidden")
        assert api.snapshot(case["id"]) == before

    def test_the_council_may_not_submit_a_dossier_for_the_province(self, api: Api) -> None:
        case = api.create_case()
        for doc_type in SUBMIT_DOCUMENTS:
            assert api.upload(case["id"], doc_type).status_code == 201
        before = api.snapshot(case["id"])
        response = api.fire(case["id"], "submit", "council", before["case"]["version"])
        error_details(response, 403, "forbidden")
        assert api.snapshot(case["id"]) == before

    def test_the_ministry_may_not_request_a_supplement_while_the_council_holds_the_dossier(
        self, api: Api
    ) -> None:
        case = api.case_in_council_review()
        before = api.snapshot(case["id"])
        response = api.fire(
            case["id"], "request_supplement", "ministry", case["version"], reason="Thiếu"
        )
        error_details(response, 403, "forbidden")
        assert api.snapshot(case["id"]) == before

    def test_only_an_applicant_creates_cases(self, api: Api) -> None:
        for who in ("council", "ministry", "mpi", "government", "viewer", "admin"):
            response = api.client.post(
                "/api/v1/cases",
                json={"applicant_name": "X", "province": "Hậu Giang", "unit_kind": "ict_centre"},
                headers=api.headers(who),
            )
            error_details(response, 403, "forbidden")
        assert api.list_cases().json()["items"] == []


class TestAnotherProvincesCase:
    """Another organisation's case answers exactly as a case that does not exist."""

    @pytest.mark.parametrize(
        ("method", "path", "body"),
        [
            ("GET", "/api/v1/cases/{id}", None),
            ("PATCH", "/api/v1/cases/{id}", {"investor": "Quỹ đầu tư"}),
            ("POST", "/api/v1/cases/{id}/transitions", {"action": "withdraw", "reason": "x"}),
            ("GET", "/api/v1/cases/{id}/documents", None),
            ("GET", "/api/v1/cases/{id}/documents/{doc}/content", None),
            ("GET", "/api/v1/cases/{id}/history", None),
            ("GET", "/api/v1/cases/{id}/history/verify", None),
        ],
    )
    def test_is_404_with_the_same_body_as_an_unknown_id(
        self, api: Api, method: str, path: str, body: Any
    ) -> None:
        case = api.create_case()
        uploaded = api.upload(case["id"], "provincial_proposal")
        assert uploaded.status_code == 201
        version = api.read(case["id"], "applicant")["version"]
        before = api.snapshot(case["id"])

        def call(case_id: str) -> Any:
            return api.client.request(
                method,
                path.format(id=case_id, doc=uploaded.json()["id"]),
                json=body,
                headers=api.headers("other_applicant", version),
            )

        theirs, unknown = call(case["id"]), call(unknown_id())

        error_details(theirs, 404, "not_found")
        assert theirs.json() == unknown.json()
        assert api.snapshot(case["id"]) == before

    def test_an_upload_is_404_with_the_same_body_as_an_unknown_id(self, api: Api) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        theirs = api.upload(case["id"], "provincial_proposal", "other_applicant")
        unknown = api.upload(unknown_id(), "provincial_proposal", "other_applicant")
        error_details(theirs, 404, "not_found")
        assert theirs.json() == unknown.json()
        assert api.snapshot(case["id"]) == before

    def test_a_submitted_case_stays_hidden_from_other_provinces(self, api: Api) -> None:
        case = api.submitted_case()
        response = api.client.get(
            f"/api/v1/cases/{case['id']}", headers=api.headers("other_applicant")
        )
        error_details(response, 404, "not_found")


class TestTransitionNotAllowed:
    def test_resubmitting_a_draft_is_refused_listing_what_the_applicant_may_do(
        self, api: Api
    ) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        response = api.fire(case["id"], "resubmit", "applicant", case["version"])
        details = error_details(response, 409, "transition_not_allowed")
        assert sorted(details["allowed"]) == ["submit", "withdraw"]
        assert details["state"] == "draft"
        assert api.snapshot(case["id"]) == before

    def test_accepting_twice_is_refused_listing_the_council_review_actions(self, api: Api) -> None:
        case = api.case_in_council_review()
        before = api.snapshot(case["id"])
        response = api.fire(case["id"], "accept", "council", case["version"])
        details = error_details(response, 409, "transition_not_allowed")
        assert sorted(details["allowed"]) == COUNCIL_REVIEW_ACTIONS
        assert api.snapshot(case["id"]) == before

    def test_the_allowed_list_names_only_what_the_caller_may_fire(self, api: Api) -> None:
        case = api.case_in_council_review()
        response = api.fire(case["id"], "close_consultation", "ministry", case["version"])
        assert error_details(response, 409, "transition_not_allowed")["allowed"] == []

    def test_nothing_leaves_a_terminal_state(self, api: Api) -> None:
        case = api.create_case()
        withdrawn = api.advance(case["id"], "withdraw", "applicant", reason="Chưa đủ điều kiện")
        assert withdrawn["state"] == "withdrawn"
        before = api.snapshot(case["id"])
        response = api.fire(case["id"], "submit", "applicant", withdrawn["version"])
        assert error_details(response, 409, "transition_not_allowed")["allowed"] == []
        assert api.snapshot(case["id"]) == before


def missing_names(details: Any) -> list[tuple[str, str]]:
    return sorted((m["kind"], m["name"]) for m in details["missing"])


class TestRequirementsMissing:
    def test_submitting_an_empty_dossier_lists_the_six_documents(self, api: Api) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        response = api.fire(case["id"], "submit", "applicant", case["version"])
        details = error_details(response, 409, "requirements_missing")
        assert missing_names(details) == sorted(("document", d) for d in SUBMIT_DOCUMENTS)
        assert api.snapshot(case["id"]) == before

    def test_submitting_a_partial_dossier_lists_only_what_is_still_missing(self, api: Api) -> None:
        case = api.create_case()
        for doc_type in SUBMIT_DOCUMENTS[:4]:
            assert api.upload(case["id"], doc_type).status_code == 201
        before = api.snapshot(case["id"])
        response = api.fire(case["id"], "submit", "applicant", before["case"]["version"])
        details = error_details(response, 409, "requirements_missing")
        assert missing_names(details) == sorted(("document", d) for d in SUBMIT_DOCUMENTS[4:])
        assert api.snapshot(case["id"]) == before
        assert before["case"]["code"] is None

    @pytest.mark.parametrize(
        ("setup", "action", "who"),
        [
            ("create_case", "withdraw", "applicant"),
            ("submitted_case", "refuse_intake", "council"),
            ("case_in_council_review", "decline", "council"),
            ("case_in_council_review", "request_supplement", "council"),
            ("case_in_ministry_appraisal", "request_supplement", "ministry"),
        ],
    )
    def test_an_action_that_needs_a_reason_is_refused_without_one(
        self, api: Api, setup: str, action: str, who: str
    ) -> None:
        case = getattr(api, setup)()
        before = api.snapshot(case["id"])
        response = api.fire(case["id"], action, who, before["case"]["version"])
        details = error_details(response, 409, "requirements_missing")
        assert missing_names(details) == [("field", "reason")]
        assert api.snapshot(case["id"]) == before

    @pytest.mark.parametrize("reason", ["", "   ", "\n\t"], ids=["empty", "spaces", "newline"])
    def test_a_blank_reason_counts_as_no_reason(self, api: Api, reason: str) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        response = api.fire(case["id"], "withdraw", "applicant", case["version"], reason=reason)
        details = error_details(response, 409, "requirements_missing")
        assert missing_names(details) == [("field", "reason")]
        assert api.snapshot(case["id"]) == before

    def test_approving_lists_the_decision_fields_and_the_decision_document(self, api: Api) -> None:
        case = api.case_in_pm_review()
        before = api.snapshot(case["id"])
        response = api.fire(case["id"], "approve", "government", case["version"])
        details = error_details(response, 409, "requirements_missing")
        assert missing_names(details) == [
            ("document", "pm_decision"),
            ("field", "decision_date"),
            ("field", "decision_number"),
        ]
        assert api.snapshot(case["id"]) == before

    def test_approving_with_the_decision_uploaded_still_needs_its_number_and_date(
        self, api: Api
    ) -> None:
        case = api.case_in_pm_review()
        assert api.upload(case["id"], "pm_decision", "government").status_code == 201
        before = api.snapshot(case["id"])
        response = api.fire(
            case["id"], "approve", "government", before["case"]["version"], decision_number="1/QĐ"
        )
        details = error_details(response, 409, "requirements_missing")
        assert missing_names(details) == [("field", "decision_date")]
        assert api.snapshot(case["id"]) == before

    @pytest.mark.parametrize("ministries", [None, []], ids=["absent", "empty"])
    def test_opening_a_consultation_needs_at_least_one_ministry(
        self, api: Api, ministries: list[str] | None
    ) -> None:
        case = api.case_in_ministry_appraisal()
        before = api.snapshot(case["id"])
        fields = {} if ministries is None else {"ministries": ministries}
        response = api.fire(case["id"], "open_consultation", "ministry", case["version"], **fields)
        details = error_details(response, 409, "requirements_missing")
        assert missing_names(details) == [("field", "ministries")]
        assert api.snapshot(case["id"]) == before


class TestStaleIfMatch:
    @pytest.mark.parametrize("offset", [-1, 1], ids=["older", "newer"])
    def test_a_version_other_than_the_current_is_refused_naming_the_current_one(
        self, api: Api, offset: int
    ) -> None:
        case = api.create_case()
        assert api.upload(case["id"], "provincial_proposal").status_code == 201
        before = api.snapshot(case["id"])
        version = before["case"]["version"]
        response = api.fire(case["id"], "withdraw", "applicant", version + offset, reason="Rút")
        details = error_details(response, 412, "version_mismatch")
        assert details["current_version"] == version
        assert api.snapshot(case["id"]) == before

    @pytest.mark.parametrize(
        "if_match", ['"abc"', '"7', "*", '" 7"', '"1e3"', '"1234567890123456789"']
    )
    def test_an_if_match_that_is_not_a_case_etag_is_malformed_input_naming_the_header(
        self, api: Api, if_match: str
    ) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        response = post_transition(
            api, case["id"], WITHDRAW, {**api.headers("applicant"), "If-Match": if_match}
        )
        details = error_details(response, 422, "invalid")
        assert details == [{"field": "header.if-match", "problem": "malformed"}]
        assert api.snapshot(case["id"]) == before

    def test_the_etag_of_a_read_is_the_if_match_that_works(self, api: Api) -> None:
        case = api.create_case()
        read = api.client.get(f"/api/v1/cases/{case['id']}", headers=api.headers("applicant"))
        response = post_transition(
            api,
            case["id"],
            WITHDRAW,
            {**api.headers("applicant"), "If-Match": read.headers["ETag"]},
        )
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == f'"{case["version"] + 1}"'

    def test_a_weak_etag_of_the_current_version_is_accepted(self, api: Api) -> None:
        case = api.create_case()
        weak = {**api.headers("applicant"), "If-Match": f'W/"{case["version"]}"'}
        response = post_transition(api, case["id"], WITHDRAW, weak)
        assert response.status_code == 200, response.text


class TestMissingIfMatch:
    @pytest.mark.parametrize("if_match", [None, ""], ids=["absent", "empty"])
    def test_a_transition_without_if_match_is_refused_with_428(
        self, api: Api, if_match: str | None
    ) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        headers = api.headers("applicant")
        if if_match is not None:
            headers["If-Match"] = if_match
        response = post_transition(api, case["id"], WITHDRAW, headers)
        error_details(response, 428, "precondition_required")
        assert api.snapshot(case["id"]) == before


class TestInvalidInput:
    """Bodies are tried on a draft that `withdraw` would otherwise take: only the body is wrong."""

    @pytest.mark.parametrize(
        "extra",
        [{"state": "member"}, {"version": 99}, {"code": "QTSC-260101-0001"}, {"to_state": "x"}],
        ids=["state", "version", "code", "to_state"],
    )
    def test_a_transition_body_with_an_unknown_field_is_refused_naming_it(
        self, api: Api, extra: dict[str, Any]
    ) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        response = post_transition(
            api, case["id"], {**WITHDRAW, **extra}, api.headers("applicant", case["version"])
        )
        details = error_details(response, 422, "invalid")
        (name,) = extra
        assert [d["field"] for d in details] == [f"body.{name}"]
        assert api.snapshot(case["id"]) == before

    def test_creating_a_case_with_a_server_owned_field_is_refused(self, api: Api) -> None:
        for name, value in [
            ("state", "member"),
            ("version", 7),
            ("code", "QTSC-260101-0001"),
            ("applicant_org", "tien-giang"),
            ("id", "00000000-0000-0000-0000-000000000001"),
        ]:
            body = {"applicant_name": "X", "province": "Hậu Giang", "unit_kind": "ict_centre"}
            response = api.client.post(
                "/api/v1/cases", json={**body, name: value}, headers=api.headers("applicant")
            )
            details = error_details(response, 422, "invalid")
            assert [d["field"] for d in details] == [f"body.{name}"]
        assert api.list_cases().json()["items"] == []

    def test_an_unknown_action_is_refused(self, api: Api) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        response = api.fire(case["id"], "admit_at_once", "applicant", case["version"])
        assert error_details(response, 422, "invalid") == {"action": "unknown"}
        assert api.snapshot(case["id"]) == before

    @pytest.mark.parametrize(
        ("action", "fields", "refused"),
        [
            ("withdraw", {"reason": "Rút", "decision_number": "1/QĐ"}, ["decision_number"]),
            ("submit", {"ministries": ["mpi"]}, ["ministries"]),
            (
                "withdraw",
                {"reason": "Rút", "decision_date": "2026-01-02", "ministries": ["mof"]},
                ["decision_date", "ministries"],
            ),
        ],
        ids=["decision-number", "ministries", "two-at-once"],
    )
    def test_a_field_the_action_does_not_take_is_refused(
        self, api: Api, action: str, fields: dict[str, Any], refused: list[str]
    ) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        response = api.fire(case["id"], action, "applicant", case["version"], **fields)
        assert sorted(error_details(response, 422, "invalid")) == refused
        assert api.snapshot(case["id"]) == before

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"action": ""}, "body.action"),
            ({**WITHDRAW, "decision_date": "next tuesday"}, "body.decision_date"),
            ({**WITHDRAW, "ministries": "mpi"}, "body.ministries"),
            ({**WITHDRAW, "comment": "x" * 4001}, "body.comment"),
            ({"action": 7}, "body.action"),
            ({"reason": "Rút"}, "body.action"),
            ({**WITHDRAW, "new_due_date": 0.0}, "body.new_due_date"),
            ({**WITHDRAW, "decision_date": 1767225600}, "body.decision_date"),
        ],
        ids=[
            "empty-action",
            "bad-date",
            "ministries-not-a-list",
            "long-comment",
            "int",
            "none",
            "date-as-float",
            "date-as-unix-time",
        ],
    )
    def test_an_invalid_transition_value_is_refused_naming_the_field(
        self, api: Api, fields: dict[str, Any], field: str
    ) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        response = post_transition(
            api, case["id"], fields, api.headers("applicant", case["version"])
        )
        details = error_details(response, 422, "invalid")
        assert field in [d["field"] for d in details]
        assert api.snapshot(case["id"]) == before

    def test_an_invalid_case_value_is_refused_naming_the_field(self, api: Api) -> None:
        for name, value in [
            ("unit_kind", "castle"),
            ("area_m2", -5),
            ("area_m2", "a lot"),
            ("area_m2", 1.234),
            ("applicant_name", "   "),
            ("province", ""),
            ("province", "x" * 101),
        ]:
            body = {"applicant_name": "X", "province": "Hậu Giang", "unit_kind": "ict_centre"}
            response = api.client.post(
                "/api/v1/cases", json={**body, name: value}, headers=api.headers("applicant")
            )
            details = error_details(response, 422, "invalid")
            assert [d["field"] for d in details] == [f"body.{name}"], (name, value)
        assert api.list_cases().json()["items"] == []

    def test_a_body_that_is_not_json_is_refused(self, api: Api) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        response = api.client.post(
            f"/api/v1/cases/{case['id']}/transitions",
            content=b"action=withdraw&reason=x",
            headers={
                **api.headers("applicant", case["version"]),
                "Content-Type": "application/json",
            },
        )
        error_details(response, 422, "invalid")
        assert api.snapshot(case["id"]) == before


class TestConsultedMinistries:
    def test_a_consulted_ministry_may_not_close_the_consultation_it_answers(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi",))
        before = api.snapshot(case["id"])
        response = api.fire(case["id"], "close_consultation", "mpi", case["version"])
        error_details(response, 403, "forbidden")
        assert api.snapshot(case["id"]) == before

    def test_a_consulted_ministry_fires_no_transition_at_all(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi",))
        assert api.read(case["id"], "mpi")["allowed_actions"] == []
        before = api.snapshot(case["id"])
        for action in ("submit_to_pm", "approve", "resubmit", "accept", "open_consultation"):
            response = api.fire(case["id"], action, "mpi", case["version"])
            error_details(response, 403, "forbidden")
        assert api.snapshot(case["id"]) == before

    def test_a_ministry_not_consulted_does_not_see_the_case(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi",))
        before = api.snapshot(case["id"])
        read = api.client.get(f"/api/v1/cases/{case['id']}", headers=api.headers("mof"))
        error_details(read, 404, "not_found")
        response = api.fire(case["id"], "close_consultation", "mof", case["version"])
        error_details(response, 404, "not_found")
        assert api.snapshot(case["id"]) == before


class TestViewer:
    def test_a_viewer_reads_a_case_and_may_take_no_action(self, api: Api) -> None:
        case = api.submitted_case()
        read = api.read(case["id"], "viewer")
        assert read["state"] == "submitted"
        assert read["allowed_actions"] == []
        assert [c["id"] for c in api.list_cases("viewer").json()["items"]] == [case["id"]]

    @pytest.mark.parametrize(
        ("action", "fields"), [("accept", {}), ("refuse_intake", {"reason": "Không đủ"})]
    )
    def test_a_viewer_may_not_fire_a_transition(
        self, api: Api, action: str, fields: dict[str, Any]
    ) -> None:
        case = api.submitted_case()
        before = api.snapshot(case["id"])
        response = api.fire(case["id"], action, "viewer", case["version"], **fields)
        error_details(response, 403, "forbidden")
        assert api.snapshot(case["id"]) == before

    def test_a_viewer_may_not_edit_a_draft(self, api: Api) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        response = api.patch(case["id"], "viewer", case["version"], investor="Báo chí")
        error_details(response, 403, "forbidden")
        assert api.snapshot(case["id"]) == before


class TestErrorBodies:
    """Errors that do not come from the service's own checks have the same shape."""

    def test_an_unknown_route_answers_the_error_shape(self, api: Api) -> None:
        response = api.client.get("/api/v1/nothing-here", headers=api.headers("council"))
        error_details(response, 404, "not_found")

    def test_a_method_the_route_does_not_have_answers_the_error_shape(self, api: Api) -> None:
        case = api.create_case()
        response = api.client.delete(f"/api/v1/cases/{case['id']}", headers=api.headers("council"))
        error_details(response, 405, "method_not_allowed")
        assert api.read(case["id"])["state"] == "draft"

    def test_a_case_id_that_is_not_a_uuid_answers_the_error_shape(self, api: Api) -> None:
        response = api.client.get("/api/v1/cases/not-a-uuid", headers=api.headers("council"))
        details = error_details(response, 422, "invalid")
        assert [d["field"] for d in details] == ["path.case_id"]
