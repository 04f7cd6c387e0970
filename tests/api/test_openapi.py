"""The OpenAPI document tells clients the truth: what it calls valid the server takes, what it
rules out the server refuses with 422, and a client can follow its links to every operation.

Values are judged against the document with jsonschema-rs (the validator Schemathesis uses),
so the patterns are read in the document's own dialect, not in Python's.
"""

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from app.admission.registry import build_context
from app.context import AppContext
from app.core.db import unit_of_work
from app.main import create_app
from app.webhooks.models import WebhookSubscription
from tests.factories import Api, error_details

CASES = "/api/v1/cases"
CASE = "/api/v1/cases/{case_id}"
TRANSITIONS = "/api/v1/cases/{case_id}/transitions"


@pytest.fixture
def document(api: Api) -> dict[str, Any]:
    response = api.client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][path][method]
    return found


def parameter(document: dict[str, Any], method: str, path: str, name: str) -> dict[str, Any]:
    (found,) = [
        p
        for p in operation(document, method, path).get("parameters", [])
        if p["name"].lower() == name.lower()
    ]
    return found


def resolved(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with the document's components, so that its `$ref`s resolve on their own."""
    return {**schema, "components": document["components"]}


def valid(document: dict[str, Any], schema: dict[str, Any], value: Any) -> bool:
    return bool(jsonschema_rs.validator_for(resolved(document, schema)).is_valid(value))


def body_schema(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    content = operation(document, method, path)["requestBody"]["content"]
    schema: dict[str, Any] = content["application/json"]["schema"]
    return schema


def subscriptions(ctx: AppContext) -> int:
    with unit_of_work(ctx.engine, write=False) as session:
        return session.scalar(select(func.count()).select_from(WebhookSubscription)) or 0


class TestIdempotencyKey:
    KEYS = [
        "k1",
        '"quoted key"',
        "a b",
        "~" * 255,
        "x" * 256,
        " leading",
        "trailing ",
        "",
        "tab\tinside",
        "é",
    ]

    @pytest.mark.parametrize("key", KEYS)
    def test_the_server_takes_exactly_the_keys_the_document_describes(
        self, api: Api, document: dict[str, Any], key: str
    ) -> None:
        schema = parameter(document, "post", "/api/v1/webhooks", "Idempotency-Key")["schema"]
        headers = {**api.headers("council"), "Idempotency-Key": key}
        # Sent as raw bytes, so that the spaces around the key reach the server.
        response = api.client.post(
            "/api/v1/webhooks",
            json={"url": "https://hooks.example.gov.vn/a", "event_types": ["*"]},
            headers={k: v.encode("latin-1") for k, v in headers.items()},
        )
        assert (response.status_code != 422) == valid(document, schema, key), response.text


class TestIfMatch:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("patch", CASE),
            ("post", TRANSITIONS),
            ("post", "/api/v1/cases/{case_id}/consultations/{consultation_id}/answer"),
            ("post", "/api/v1/cases/{case_id}/consultations/{consultation_id}/extend"),
        ],
    )
    def test_it_is_required_with_its_pattern_where_a_missing_one_is_428(
        self, document: dict[str, Any], method: str, path: str
    ) -> None:
        found = parameter(document, method, path, "If-Match")
        assert found["required"] is True
        assert found["schema"] == {
            "type": "string",
            "pattern": found["schema"]["pattern"],
            "title": "If-Match",
            "description": found["schema"]["description"],
        }

    def test_an_upload_takes_it_optionally_with_the_same_pattern(
        self, document: dict[str, Any]
    ) -> None:
        upload = parameter(document, "post", "/api/v1/cases/{case_id}/documents", "If-Match")
        edit = parameter(document, "patch", CASE, "If-Match")
        assert upload["required"] is False
        assert upload["schema"]["pattern"] == edit["schema"]["pattern"]

    @pytest.mark.parametrize("if_match", ['"{v}"', 'W/"{v}"', "{v}", '"{v}x"', '"{v}', "*", "v{v}"])
    def test_the_server_reads_exactly_the_etags_the_document_describes(
        self, api: Api, document: dict[str, Any], if_match: str
    ) -> None:
        case = api.create_case()
        value = if_match.format(v=case["version"])
        schema = parameter(document, "patch", CASE, "If-Match")["schema"]
        response = api.client.patch(
            f"{CASES}/{case['id']}",
            json={"investor": "Công ty CP Đầu tư"},
            headers={**api.headers("applicant"), "If-Match": value},
        )
        assert (response.status_code == 200) == valid(document, schema, value), response.text
        if response.status_code != 200:
            assert error_details(response, 422, "invalid") == [
                {"field": "header.if-match", "problem": "malformed"}
            ]


class TestCursors:
    def test_every_next_cursor_matches_its_pattern_and_reads_back(
        self, api: Api, document: dict[str, Any]
    ) -> None:
        for _ in range(3):
            api.submitted_case()
        for path, key in ((CASES, "next_cursor"), ("/api/v1/pipeline", "next_cursor")):
            schema = parameter(document, "get", path, "cursor")["schema"]
            page = api.client.get(path, params={"limit": 1}, headers=api.headers("council"))
            cursor = page.json()[key]
            assert cursor is not None
            assert valid(document, schema, cursor), cursor
            following = api.client.get(
                path, params={"limit": 1, "cursor": cursor}, headers=api.headers("council")
            )
            assert following.status_code == 200, following.text

    @pytest.mark.parametrize(
        ("path", "cursor"),
        [
            (CASES, "999999999999999999." + "f" * 32),
            (CASES, "0." + "0" * 32),
            ("/api/v1/pipeline", "9999999.999999999999999999." + "f" * 32),
            ("/api/v1/pipeline", ".0." + "0" * 32),
            ("/api/v1/events", "999999999999999999"),
            ("/api/v1/webhooks/{subscription_id}/deliveries", "999999999999999999"),
        ],
    )
    def test_any_cursor_of_the_documented_form_is_read_never_refused(
        self, api: Api, document: dict[str, Any], path: str, cursor: str
    ) -> None:
        name = "after" if path == "/api/v1/events" else "cursor"
        assert valid(document, parameter(document, "get", path, name)["schema"], cursor)
        if "{subscription_id}" in path:
            created = api.client.post(
                "/api/v1/webhooks",
                json={"url": "https://hooks.example.gov.vn/a", "event_types": ["*"]},
                headers=api.headers("council"),
            )
            path = path.format(subscription_id=created.json()["id"])
        response = api.client.get(path, params={name: cursor}, headers=api.headers("council"))
        assert response.status_code == 200, response.text


class TestArea:
    @pytest.mark.parametrize(
        "area",
        [
            0.01,
            999999999999.99,
            120000,
            "1102.50",
            "0.5",
            0,
            -1,
            0.001,
            1e12,
            "1e3",
            " 12",
            "012",
            "12.345",
            True,
        ],
    )
    def test_the_server_takes_exactly_the_areas_the_document_describes(
        self, api: Api, document: dict[str, Any], area: Any
    ) -> None:
        schema = document["components"]["schemas"]["CaseCreate"]["properties"]["area_m2"]
        body = {"applicant_name": "Khu CNTT", "unit_kind": "ict_centre", "area_m2": area}
        response = api.client.post(CASES, json=body, headers=api.headers("applicant"))
        assert (response.status_code == 201) == valid(document, schema, area), response.text


class TestTexts:
    @pytest.mark.parametrize(
        ("field", "value"),
        [("applicant_name", "Khu\x00CNTT"), ("address", "\x00"), ("applicant_name", " \t ")],
    )
    def test_a_text_the_document_rules_out_is_422_on_every_database(
        self, api: Api, document: dict[str, Any], field: str, value: str
    ) -> None:
        body = {"applicant_name": "Khu CNTT", "unit_kind": "ict_centre", field: value}
        assert not valid(document, body_schema(document, "post", CASES), body)
        response = api.client.post(CASES, json=body, headers=api.headers("applicant"))
        assert f"body.{field}" in [d["field"] for d in error_details(response, 422, "invalid")]
        assert api.list_cases().json()["items"] == []

    @pytest.mark.parametrize("name", ["q", "state", "province", "applicant"])
    def test_a_list_filter_with_a_nul_is_422_on_every_database(
        self, api: Api, document: dict[str, Any], name: str
    ) -> None:
        assert not valid(document, parameter(document, "get", CASES, name)["schema"], "a\x00b")
        response = api.list_cases(**{name: "a\x00b"})
        assert f"query.{name}" in [d["field"] for d in error_details(response, 422, "invalid")]

    def test_the_largest_body_the_document_allows_is_not_too_large(
        self, api: Api, document: dict[str, Any]
    ) -> None:
        case = api.create_case()
        # Every text at its longest, each character escaped as a surrogate pair (12 bytes).
        body = {"action": "withdraw", "comment": "😀" * 4000, "reason": "😀" * 4000}
        assert valid(document, body_schema(document, "post", TRANSITIONS), body)
        response = api.client.post(
            f"{CASES}/{case['id']}/transitions",
            content=json.dumps(body),
            headers={
                **api.headers("applicant", case["version"]),
                "Content-Type": "application/json",
            },
        )
        assert response.status_code == 200, response.text[:300]


class TestTransitionBodies:
    def test_each_action_lists_the_fields_it_takes_and_no_other(
        self, api: Api, document: dict[str, Any]
    ) -> None:
        schema = body_schema(document, "post", TRANSITIONS)
        assert valid(document, schema, {"action": "extend_deadline", "new_due_date": "2026-04-01"})
        assert valid(document, schema, {"action": "submit", "new_due_date": None})
        assert not valid(document, schema, {"action": "submit", "new_due_date": "2026-04-01"})
        assert not valid(document, schema, {"action": "fly_to_the_moon"})

    @pytest.mark.parametrize(
        "body",
        [
            {"action": "withdraw", "reason": "Rút", "new_due_date": "2026-04-01"},
            {"action": "fly_to_the_moon"},
            {
                "action": "request_supplement",
                "reason": "x",
                "supplement_documents": ["intake_receipt"],
            },
            {
                "action": "request_supplement",
                "reason": "x",
                "supplement_documents": ["site_documents", "site_documents"],
            },
        ],
        ids=["field-not-taken", "unknown-action", "letter-asked-again", "listed-twice"],
    )
    def test_a_body_the_document_rules_out_is_422_even_with_a_stale_if_match(
        self, api: Api, document: dict[str, Any], body: dict[str, Any]
    ) -> None:
        assert not valid(document, body_schema(document, "post", TRANSITIONS), body)
        case = api.create_case()
        before = api.snapshot(case["id"])
        response = api.client.post(
            f"{CASES}/{case['id']}/transitions",
            json=body,
            headers=api.headers("applicant", case["version"] + 5),
        )
        error_details(response, 422, "invalid")
        assert api.snapshot(case["id"]) == before


class TestVocabularies:
    def test_workflow_keys_document_types_and_states_are_listed_from_the_workflow_files(
        self, ctx: AppContext, document: dict[str, Any]
    ) -> None:
        definitions = [w.definition for w in ctx.workflows]
        keys = sorted({d.key for d in definitions})
        create = document["components"]["schemas"]["CaseCreate"]["properties"]["workflow"]
        assert [b["enum"] for b in create["anyOf"] if b.get("type") == "string"] == [keys]
        form = operation(document, "post", "/api/v1/cases/{case_id}/documents")["requestBody"]
        doc_type = form["content"]["multipart/form-data"]["schema"]["properties"]["doc_type"]
        uploadable = sorted(
            {n for d in definitions for n, t in d.document_types.items() if not t.generated}
        )
        assert doc_type["enum"] == uploadable
        diagram = "/api/v1/workflows/{key}/versions/{version}/diagram"
        current = parameter(document, "get", diagram, "current")["schema"]
        assert current["enum"] == sorted({s for d in definitions for s in d.states})


class TestWebhookUrls:
    URLS = [
        "https://hooks.example.gov.vn/admission",
        "http://8.8.8.8:8080/hook?x=1",
        "https://[2001:4860:4860::8888]/hook",
        "http://127.0.0.1/hook",
        "http://[::1]/hook",
        "http://localhost:9000/hook",
        "http://api.LOCALHOST./hook",
        "http://10.1.2.3/hook",
        "ftp://example.com/hook",
        "https://example.com:65536/hook",
        "https:///no-host",
        " https://example.com/hook",
        "https://example.com/a b",
        "https://exa mple.com/",
    ]

    @pytest.fixture
    def closed(self, ctx: AppContext, api: Api) -> Iterator[tuple[AppContext, Api]]:
        """The same database, served with the production default: public hosts only."""
        settings = ctx.settings.model_copy(update={"webhook_allow_private_hosts": False})
        strict = build_context(settings)
        with TestClient(create_app(context=strict), raise_server_exceptions=False) as client:
            yield strict, Api(client, api.tokens)
        strict.engine.dispose()

    @pytest.mark.parametrize("url", URLS)
    def test_the_server_registers_exactly_the_urls_the_document_describes(
        self, closed: tuple[AppContext, Api], url: str
    ) -> None:
        ctx, api = closed
        document = api.client.get("/openapi.json").json()
        body = {"url": url, "event_types": ["*"]}
        accepted = valid(document, body_schema(document, "post", "/api/v1/webhooks"), body)
        before = subscriptions(ctx)
        response = api.client.post("/api/v1/webhooks", json=body, headers=api.headers("council"))
        assert response.status_code == (201 if accepted else 422), response.text
        assert subscriptions(ctx) == before + accepted


class TestResponses:
    def test_an_answer_with_an_etag_declares_it_and_a_created_resource_its_location(
        self, api: Api, document: dict[str, Any]
    ) -> None:
        created = api.client.post(
            CASES,
            json={"applicant_name": "Khu CNTT", "unit_kind": "ict_centre"},
            headers=api.headers("applicant"),
        )
        declared = operation(document, "post", CASES)["responses"]["201"]["headers"]
        assert {"ETag", "Location"} <= set(declared)
        assert re.fullmatch(declared["ETag"]["schema"]["pattern"], created.headers["ETag"])
        assert created.headers["Location"] == f"{CASES}/{created.json()['id']}"

    def test_the_consultations_of_a_case_carry_its_etag_for_an_answer(self, api: Api) -> None:
        case = api.case_in_consultation()
        listed = api.client.get(f"{CASES}/{case['id']}/consultations", headers=api.headers("mpi"))
        assert listed.headers["ETag"] == f'"{api.read(case["id"])["version"]}"'

    @pytest.mark.parametrize(
        ("path", "allowed"),
        [(CASES, "GET, POST"), (f"{CASES}/{uuid.UUID(int=7)}", "GET, PATCH")],
    )
    def test_a_method_not_allowed_lists_every_method_of_the_path(
        self, api: Api, path: str, allowed: str
    ) -> None:
        response: Response = api.client.request("OPTIONS", path, headers=api.headers("council"))
        error_details(response, 405, "method_not_allowed")
        assert response.headers["allow"] == allowed


class TestLinks:
    def test_following_links_from_the_operations_without_ids_reaches_every_operation(
        self, document: dict[str, Any]
    ) -> None:
        operations = {
            f"{method} {path}"
            for path, methods in document["paths"].items()
            if path.startswith("/api/")
            for method in methods
        }
        reached = {o for o in operations if "{" not in o}
        edges: dict[str, set[str]] = {}
        for path, methods in document["paths"].items():
            for method, spec in methods.items():
                for response in spec["responses"].values():
                    for link in response.get("links", {}).values():
                        ref = link["operationRef"].removeprefix("#/paths/")
                        target_path, _, target_method = ref.rpartition("/")
                        target = target_path.replace("~1", "/").replace("~0", "~")
                        edges.setdefault(f"{method} {path}", set()).add(f"{target_method} {target}")
        frontier = set(reached)
        while frontier:
            frontier = {t for o in frontier for t in edges.get(o, ())} - reached
            reached |= frontier
        assert reached == operations, sorted(operations - reached)
