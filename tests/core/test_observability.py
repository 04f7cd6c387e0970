"""Request ids, JSON access log lines, Prometheus metrics and readiness."""

import json
import logging

import pytest
from fastapi.testclient import TestClient

from app.context import AppContext
from app.core.logging import JsonFormatter
from app.main import create_app
from tests.factories import Api


class TestRequestId:
    def test_a_sane_request_id_is_echoed(self, api: Api) -> None:
        response = api.client.get("/healthz", headers={"X-Request-ID": "abc-123"})
        assert response.headers["x-request-id"] == "abc-123"

    @pytest.mark.parametrize("given", [None, "x" * 300, "bad id\twith spaces"])
    def test_otherwise_one_is_generated(self, api: Api, given: str | None) -> None:
        headers = {"X-Request-ID": given} if given else {}
        rid = api.client.get("/healthz", headers=headers).headers["x-request-id"]
        assert len(rid) == 32
        assert rid != given


class TestAccessLog:
    def test_one_json_line_per_request_with_route_actor_and_no_token(
        self, api: Api, caplog: pytest.LogCaptureFixture
    ) -> None:
        case = api.create_case()
        with caplog.at_level(logging.INFO, logger="admission.access"):
            api.client.get(
                f"/api/v1/cases/{case['id']}",
                headers={**api.headers("council"), "X-Request-ID": "req-1"},
            )
        # The line of an earlier request may be written after its response was read.
        (record,) = [
            r
            for r in caplog.records
            if r.name == "admission.access" and getattr(r, "request_id", None) == "req-1"
        ]
        line = json.loads(JsonFormatter().format(record))
        assert line["request_id"] == "req-1"
        assert line["route"] == "/api/v1/cases/{case_id}"
        assert line["status"] == 200
        assert line["method"] == "GET"
        assert line["actor_org"] == "hdqlc"
        assert line["actor_role"] == "council"
        assert isinstance(line["duration_ms"], float)
        assert api.tokens["council"] not in json.dumps(line)


class TestMetrics:
    def test_requests_transitions_cases_and_overdue_are_exposed(self, api: Api) -> None:
        case = api.submitted_case()
        api.advance(case["id"], "accept", "council")
        text = api.client.get("/metrics").text
        assert (
            'admission_http_requests_total{method="POST",route="/api/v1/cases",status="201"}'
            in text
        )
        assert 'admission_transitions_total{action="accept"}' in text
        assert 'admission_cases{state="council_review",workflow="qtsc-chain-admission"} 1.0' in text
        assert "admission_cases_overdue" in text

    def test_a_refused_transition_is_not_counted(self, api: Api) -> None:
        case = api.create_case()

        def submitted() -> float:
            for line in api.client.get("/metrics").text.splitlines():
                if line.startswith('admission_transitions_total{action="submit"}'):
                    return float(line.split()[-1])
            return 0.0

        before = submitted()
        assert api.fire(case["id"], "submit", "applicant").status_code == 409
        assert submitted() == before


class TestReadiness:
    def test_ready_when_the_database_answers(self, api: Api) -> None:
        assert api.client.get("/readyz").json() == {"status": "ready"}

    def test_not_ready_when_it_does_not(self, ctx: AppContext) -> None:
        broken = ctx.settings.model_copy(
            update={"database_url": "postgresql://nobody@127.0.0.1:1/none"}
        )
        with TestClient(create_app(broken)) as client:
            response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "unavailable"
