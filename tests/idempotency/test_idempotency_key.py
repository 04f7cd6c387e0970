"""Idempotency-Key on POST: a retry gets the first response, never a second effect."""

import json
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.admission.registry import build_context
from app.cases.models import Case
from app.context import AppContext
from app.core.db import unit_of_work
from app.documents.models import Document
from app.history.models import AuditEntry
from app.idempotency import service
from app.idempotency.models import IdempotencyKey
from tests.factories import Api, Clock, pdf_bytes
from tests.live import serve

# No province: each applicant's dossier takes its own organisation's.
CASE_BODY = {"applicant_name": "Công viên phần mềm Mekong", "unit_kind": "software_park"}


def count(ctx: AppContext, model: Any) -> int:
    with unit_of_work(ctx.engine, write=False) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def create(api: Api, key: str | bytes, who: str = "other_applicant", **body: Any) -> httpx.Response:
    headers: dict[str, str | bytes] = {**api.headers(who), "Idempotency-Key": key}
    return api.client.post("/api/v1/cases", json=body or CASE_BODY, headers=headers)


def fire(api: Api, case: dict[str, Any], key: str, action: str, who: str, **fields: Any) -> Any:
    headers = {**api.headers(who, case["version"]), "Idempotency-Key": key}
    return api.client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        json={"action": action, **fields},
        headers=headers,
    )


class TestRetries:
    def test_a_retried_create_returns_the_first_response_and_creates_one_case(
        self, api: Api, ctx: AppContext
    ) -> None:
        first = create(api, "create-1")
        again = create(api, "create-1")

        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        for header in ("etag", "location", "content-type"):
            assert again.headers[header] == first.headers[header]
        assert "idempotent-replayed" not in first.headers
        assert again.headers["idempotent-replayed"] == "true"
        assert count(ctx, Case) == 1

    def test_a_quoted_key_is_the_same_key(self, api: Api, ctx: AppContext) -> None:
        first = create(api, "quoted-1")
        again = create(api, '"quoted-1"')
        assert again.json()["id"] == first.json()["id"]
        assert count(ctx, Case) == 1

    def test_a_retried_transition_is_applied_once_even_after_the_case_moved_on(
        self, api: Api
    ) -> None:
        case = api.submitted_case()
        first = fire(api, case, "accept-1", "accept", "council")
        assert first.status_code == 200, first.text
        moved = api.advance(case["id"], "request_supplement", "council", reason="Thiếu bản đồ")

        again = fire(api, case, "accept-1", "accept", "council")

        assert again.status_code == 200
        assert again.json() == first.json()
        assert again.headers["etag"] == first.headers["etag"]
        actions = [e["action"] for e in api.history(case["id"])]
        assert actions.count("accept") == 1
        assert api.read(case["id"])["version"] == moved["version"]

    def test_a_refusal_is_stored_and_replayed_too(self, api: Api) -> None:
        case = api.create_case()
        refused = fire(api, case, "submit-early", "submit", "applicant")
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "requirements_missing"
        for doc_type in (
            "provincial_proposal",
            "membership_scheme",
            "establishment_decision",
            "site_documents",
            "planning_conformity",
            "investment_plan",
        ):
            assert api.upload(case["id"], doc_type).status_code == 201  # fmt: skip
        current = api.read(case["id"], "applicant")

        replayed = fire(api, current, "submit-early", "submit", "applicant")
        assert replayed.status_code == 409
        assert replayed.json() == refused.json()
        assert replayed.headers["idempotent-replayed"] == "true"
        assert api.read(case["id"], "applicant")["state"] == "draft"

        fresh = fire(api, current, "submit-ready", "submit", "applicant")
        assert fresh.status_code == 200, fresh.text
        assert fresh.json()["state"] == "submitted"

    def test_a_retried_upload_with_a_new_multipart_boundary_stores_one_document(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.create_case()
        content = pdf_bytes("proposal")

        def upload(boundary: str) -> httpx.Response:
            request = httpx.Request(
                "POST",
                "http://testserver/",
                data={"doc_type": "provincial_proposal"},
                files={"file": ("to-trinh.pdf", content, "application/pdf")},
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
            body = request.read()
            return api.client.post(
                f"/api/v1/cases/{case['id']}/documents",
                content=body,
                headers={
                    **api.headers("applicant"),
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                    "Idempotency-Key": "upload-1",
                },
            )

        first = upload("first-attempt-boundary-1a2b")
        again = upload("second-attempt-boundary-9z8y")

        assert first.status_code == again.status_code == 201, again.text
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["idempotent-replayed"] == "true"
        assert count(ctx, Document) == 1


class TestMisuse:
    def test_the_same_key_with_another_body_is_refused_and_changes_nothing(
        self, api: Api, ctx: AppContext
    ) -> None:
        assert create(api, "reuse-1").status_code == 201

        other = create(api, "reuse-1", **{**CASE_BODY, "province": "Bến Tre"})

        assert other.status_code == 422
        error = other.json()["error"]
        assert error["code"] == "idempotency_key_reused"
        assert error["details"]["key"] == "reuse-1"
        assert count(ctx, Case) == 1

    def test_the_same_key_on_another_endpoint_is_refused(self, api: Api) -> None:
        case = create(api, "reuse-2").json()
        refused = fire(api, case, "reuse-2", "withdraw", "other_applicant", reason="Rút")
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "idempotency_key_reused"
        assert api.read(case["id"])["state"] == "draft"

    @pytest.mark.parametrize("key", ["", "x" * 256, "khóa-tiếng-việt".encode(), "tab\there"])
    def test_a_malformed_key_is_refused_naming_the_header(
        self, api: Api, ctx: AppContext, key: str | bytes
    ) -> None:
        response = create(api, key)
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "header.Idempotency-Key"
        assert count(ctx, Case) == 0

    def test_without_a_valid_token_nothing_is_keyed(self, api: Api, ctx: AppContext) -> None:
        response = api.client.post(
            "/api/v1/cases",
            json=CASE_BODY,
            headers={"Authorization": "Bearer nope", "Idempotency-Key": "anon-1"},
        )
        assert response.status_code == 401
        assert count(ctx, IdempotencyKey) == 0


class TestScopeAndExpiry:
    def test_keys_belong_to_the_callers_organisation(self, api: Api, ctx: AppContext) -> None:
        mine = create(api, "shared-key", "other_applicant")
        theirs = create(api, "shared-key", "applicant")

        assert mine.status_code == theirs.status_code == 201
        assert mine.json()["id"] != theirs.json()["id"]
        assert count(ctx, Case) == 2

    def test_an_expired_key_is_forgotten(self, api: Api, ctx: AppContext) -> None:
        clock = Clock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
        ctx.clock = clock
        first = create(api, "expiring")
        clock.advance(seconds=ctx.settings.idempotency_ttl_seconds + 1)

        again = create(api, "expiring", **{**CASE_BODY, "applicant_name": "Khu CNTT Mỹ Tho"})

        assert again.status_code == 201
        assert again.json()["id"] != first.json()["id"]
        assert "idempotent-replayed" not in again.headers


def claim_elsewhere(ctx: AppContext, api: Api, body: dict[str, Any], key: str) -> Any:
    """Claim a key as another API process would in the middle of handling the request."""
    fingerprint = service.Fingerprint("POST", "/api/v1/cases", b"", None)
    fingerprint.update(json.dumps(body).encode())
    with unit_of_work(ctx.engine, write=False) as session:
        from app.auth.service import authenticate

        actor = authenticate(session, api.tokens["other_applicant"])
    request = service.Request(actor.org_id, key, fingerprint.hexdigest(), "POST", "/api/v1/cases")
    settings = ctx.settings
    return service.claim(
        ctx.engine,
        request,
        ctx.now(),
        ttl=timedelta(seconds=settings.idempotency_ttl_seconds),
        lease=timedelta(seconds=settings.idempotency_lease_seconds),
    )


def post_raw(api: Api, body: dict[str, Any], key: str) -> httpx.Response:
    return api.client.post(
        "/api/v1/cases",
        content=json.dumps(body).encode(),
        headers={
            **api.headers("other_applicant"),
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        },
    )


class TestInFlight:
    def test_a_retry_while_the_first_attempt_runs_is_told_to_wait(
        self, api: Api, ctx: AppContext
    ) -> None:
        ctx.clock = Clock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
        claim_elsewhere(ctx, api, CASE_BODY, "in-flight")

        response = post_raw(api, CASE_BODY, "in-flight")

        assert response.status_code == 409
        assert response.json()["error"]["code"] == "idempotency_key_in_use"
        assert 1 <= int(response.headers["retry-after"]) <= ctx.settings.idempotency_lease_seconds
        assert count(ctx, Case) == 0

    def test_a_dead_attempt_is_taken_over_and_can_no_longer_complete(
        self, api: Api, ctx: AppContext
    ) -> None:
        clock = Clock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
        ctx.clock = clock
        dead = claim_elsewhere(ctx, api, CASE_BODY, "orphaned")
        clock.advance(seconds=ctx.settings.idempotency_lease_seconds + 1)

        response = post_raw(api, CASE_BODY, "orphaned")
        assert response.status_code == 201, response.text

        late = service.StoredResponse(201, [], b"{}")
        with unit_of_work(ctx.engine) as session:
            assert service.complete(session, dead, late, ctx.now()) is False
        replay = post_raw(api, CASE_BODY, "orphaned")
        assert replay.json() == response.json()
        assert count(ctx, Case) == 1


class TestConcurrentRetries:
    @pytest.fixture
    def servers(self, ctx: AppContext) -> Any:
        """Two independent app instances on one database, as behind a load balancer."""
        second = build_context(ctx.settings)
        with serve(ctx) as one, serve(second) as two:
            yield one, two
        second.engine.dispose()

    def test_the_same_request_sent_at_once_to_two_servers_takes_effect_once(
        self, api: Api, ctx: AppContext, servers: tuple[str, str]
    ) -> None:
        case = api.submitted_case()
        clients = 8
        barrier = threading.Barrier(clients)

        def send(i: int) -> httpx.Response:
            headers = {**api.headers("council", case["version"]), "Idempotency-Key": "race-1"}
            with httpx.Client(base_url=servers[i % 2], timeout=60) as http:
                barrier.wait(timeout=10)
                return http.post(
                    f"/api/v1/cases/{case['id']}/transitions",
                    json={"action": "accept"},
                    headers=headers,
                )

        with ThreadPoolExecutor(clients) as pool:
            responses = list(pool.map(send, range(clients)))

        statuses = Counter(r.status_code for r in responses)
        assert set(statuses) <= {200, 409}, [r.text for r in responses]
        winners = [r for r in responses if r.status_code == 200]
        assert winners
        assert all(r.json() == winners[0].json() for r in winners)
        assert all(
            r.json()["error"]["code"] == "idempotency_key_in_use"
            for r in responses
            if r.status_code == 409
        )
        with unit_of_work(ctx.engine, write=False) as session:
            accepts = session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.case_id == uuid.UUID(case["id"]), AuditEntry.action == "accept")
            )
        assert accepts == 1
        assert api.read(case["id"])["version"] == case["version"] + 1


def test_requests_without_a_key_are_untouched(
    client: TestClient, api: Api, ctx: AppContext
) -> None:
    first = api.client.post("/api/v1/cases", json=CASE_BODY, headers=api.headers("applicant"))
    second = api.client.post("/api/v1/cases", json=CASE_BODY, headers=api.headers("applicant"))
    assert first.json()["id"] != second.json()["id"]
    assert count(ctx, IdempotencyKey) == 0
