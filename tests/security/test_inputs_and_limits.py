"""Mass assignment (OWASP API3), resource limits (API4) and what an error may reveal."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.context import AppContext
from app.main import create_app
from tests.factories import Api, error_details
from tests.security.world import database_snapshot

SERVER_OWNED = {
    "id": str(uuid.uuid4()),
    "state": "member",
    "version": 99,
    "code": "QTSC-260101-0001",
    "applicant_org": "tien-giang",
    "applicant_org_id": 2,
    "workflow_version": 7,
    "due_at": "2030-01-01",
    "created_at": "2020-01-01T00:00:00+07:00",
    "received_at": "2020-01-01T00:00:00+07:00",
    "search_text": "x",
}
NEW_CASE = {"applicant_name": "Khu CNTT", "unit_kind": "ict_centre"}
# Names that would give away how the service is built, if a response carried them.
INTERNAL_KEYS = {
    "token_hash",
    "prefix",
    "storage_path",
    "path",
    "search_text",
    "return_state",
    "applicant_org_id",
    "uploaded_by_org_id",
    "ministry_org_id",
    "organisation_id",
}


def keys_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


# A new case may name a loaded version of its workflow (the latest otherwise); an edit may not.
CHOSEN_ON_CREATE = {"workflow_version"}


class TestMassAssignment:
    @pytest.mark.parametrize("field", sorted(SERVER_OWNED.keys() - CHOSEN_ON_CREATE))
    def test_a_new_case_cannot_set_a_server_owned_field(
        self, api: Api, ctx: AppContext, field: str
    ) -> None:
        before = database_snapshot(ctx)
        response = api.client.post(
            "/api/v1/cases",
            json={**NEW_CASE, field: SERVER_OWNED[field]},
            headers=api.headers("applicant"),
        )
        details = error_details(response, 422, "invalid")
        assert any(d["field"].endswith(field) for d in details), details
        assert database_snapshot(ctx) == before

    @pytest.mark.parametrize("field", list(SERVER_OWNED))
    def test_an_edit_cannot_set_a_server_owned_field(
        self, api: Api, ctx: AppContext, field: str
    ) -> None:
        case = api.create_case()
        before = database_snapshot(ctx)
        response = api.client.patch(
            f"/api/v1/cases/{case['id']}",
            json={"investor": "Quỹ", field: SERVER_OWNED[field]},
            headers=api.headers("applicant", case["version"]),
        )
        error_details(response, 422, "invalid")
        assert database_snapshot(ctx) == before

    @pytest.mark.parametrize("field", ["state", "to_state", "version", "code", "applicant_org"])
    def test_a_transition_cannot_carry_a_server_owned_field(
        self, api: Api, ctx: AppContext, field: str
    ) -> None:
        case = api.create_case()
        before = database_snapshot(ctx)
        response = api.client.post(
            f"/api/v1/cases/{case['id']}/transitions",
            json={"action": "withdraw", "reason": "Rút", field: SERVER_OWNED.get(field, 1)},
            headers=api.headers("applicant", case["version"]),
        )
        error_details(response, 422, "invalid")
        assert database_snapshot(ctx) == before

    def test_an_answer_cannot_set_when_it_was_answered(self, api: Api, ctx: AppContext) -> None:
        case = api.case_in_consultation()
        consultation = api.consultations(case["id"])[0]
        before = database_snapshot(ctx)
        response = api.answer(
            case["id"], consultation["id"], "mpi", answered_at="2020-01-01T00:00:00Z"
        )
        error_details(response, 422, "invalid")
        assert database_snapshot(ctx) == before

    def test_responses_show_no_internal_fields(self, api: Api) -> None:
        case = api.case_in_consultation()
        seen: set[str] = set()
        for path in (
            f"/api/v1/cases/{case['id']}",
            f"/api/v1/cases/{case['id']}/documents",
            f"/api/v1/cases/{case['id']}/history",
            f"/api/v1/cases/{case['id']}/consultations",
            "/api/v1/cases",
            "/api/v1/pipeline",
            "/api/v1/events",
        ):
            response = api.client.get(path, headers=api.headers("ministry"))
            assert response.status_code == 200, response.text
            seen |= keys_of(response.json())
        assert seen & INTERNAL_KEYS == set()


@pytest.fixture
def small_api(ctx: AppContext) -> Iterator[Api]:
    from tests.factories import make_tokens

    ctx.settings = ctx.settings.model_copy(
        update={"page_size_max": 2, "events_max_wait_seconds": 0.2, "max_json_body_bytes": 2048}
    )
    with TestClient(create_app(context=ctx), raise_server_exceptions=False) as client:
        yield Api(client, make_tokens(ctx))


class TestLimits:
    def test_a_json_body_over_the_cap_is_413_and_changes_nothing(
        self, small_api: Api, ctx: AppContext
    ) -> None:
        before = database_snapshot(ctx)
        response = small_api.client.post(
            "/api/v1/cases",
            json={**NEW_CASE, "address": "x" * 4000},
            headers=small_api.headers("applicant"),
        )
        details = error_details(response, 413, "too_large")
        assert details == {"limit": 2048}
        assert database_snapshot(ctx) == before

    def test_a_chunked_body_over_the_cap_is_413(self, small_api: Api) -> None:
        def chunks() -> Iterator[bytes]:
            yield b'{"applicant_name": "'
            for _ in range(100):
                yield b"x" * 100
            yield b'"}'

        response = small_api.client.post(
            "/api/v1/cases",
            content=chunks(),
            headers={**small_api.headers("applicant"), "Content-Type": "application/json"},
        )
        error_details(response, 413, "too_large")

    def test_a_body_under_the_cap_is_served(self, small_api: Api) -> None:
        assert small_api.create_case()["state"] == "draft"

    def test_the_page_size_is_capped(self, small_api: Api) -> None:
        for _ in range(3):
            small_api.create_case()
        page = small_api.list_cases(limit=10_000).json()
        assert len(page["items"]) == 2
        assert page["next_cursor"] is not None

    def test_the_long_poll_wait_is_capped(self, small_api: Api) -> None:
        response = small_api.events_page(after="999999", wait=10_000_000)
        assert response.status_code == 200
        assert response.json()["items"] == []


def failing_app(ctx: AppContext) -> FastAPI:
    app = create_app(context=ctx)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail: /var/lib/admission/db password=hunter2")

    return app


class TestErrorsRevealNothing:
    def test_an_unexpected_error_is_a_generic_500_with_a_request_id(
        self, ctx: AppContext, caplog: pytest.LogCaptureFixture
    ) -> None:
        with TestClient(failing_app(ctx), raise_server_exceptions=False) as client:
            response = client.get("/boom")
        details = error_details(response, 500, "internal")
        assert response.json()["error"]["message"] == "Lỗi hệ thống"  # Vietnamese by default
        assert details["request_id"]
        if "x-request-id" in response.headers:
            assert details["request_id"] == response.headers["x-request-id"]
        assert "hunter2" not in response.text
        assert "Traceback" not in response.text
        assert details["request_id"] in caplog.text  # the log ties the report to the trace

    def test_a_method_not_allowed_says_which_are(self, api: Api) -> None:
        response = api.client.request("TRACE", "/api/v1/cases", headers=api.headers("council"))
        error_details(response, 405, "method_not_allowed")
        assert "POST" in response.headers["allow"]
