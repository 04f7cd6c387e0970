"""Unchanged pipeline polls and kept case reads are answered before the app is entered; every
other request reaches the app as ever."""

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from starlette.datastructures import Headers

from app.api.shortcuts import CaseRead, Poll, shortcut_of
from app.auth.models import ApiToken
from app.auth.tokens import hash_token
from app.cases import service as cases_service
from app.context import AppContext
from app.core.db import unit_of_work
from app.core.models import utcnow
from app.pipeline import service as pipeline_service
from tests.factories import Api

PIPELINE = "/api/v1/pipeline"


@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The pipeline requests that reached the route (which reads its tag with `service.tag`)."""
    seen: list[str] = []
    real: Callable[..., str] = pipeline_service.tag

    def counted(*args: Any, **kwargs: Any) -> str:
        seen.append("route")
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline_service, "tag", counted)
    return seen


def current_tag(api: Api, who: str, **params: str) -> str:
    response = api.client.get(PIPELINE, params=params, headers=api.headers(who))
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def poll(api: Api, who: str, etag: str, **params: str) -> Any:
    headers = {**api.headers(who), "If-None-Match": etag}
    return api.client.get(PIPELINE, params=params, headers=headers)


def set_token(ctx: AppContext, api: Api, who: str, **values: Any) -> None:
    """Change a token's row directly, as another process of the service would."""
    with unit_of_work(ctx.engine) as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == hash_token(api.tokens[who]))
            .values(**values)
        )


class TestAnUnchangedPollIsAnsweredBeforeTheApp:
    @pytest.mark.parametrize("who", ["viewer", "council", "applicant", "mpi"])
    def test_the_304_never_reaches_the_route(self, api: Api, routed: list[str], who: str) -> None:
        api.create_case()
        etag = current_tag(api, who)
        assert routed == ["route"]
        response = poll(api, who, etag)
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["cache-control"] == "private, no-cache"
        assert routed == ["route"]

    def test_a_page_of_its_own_is_polled_with_its_own_tag(
        self, api: Api, routed: list[str]
    ) -> None:
        first = current_tag(api, "viewer")
        small = current_tag(api, "viewer", limit="1")
        assert small != first
        assert poll(api, "viewer", small, limit="1").status_code == 304
        assert poll(api, "viewer", first, limit="1").status_code == 200
        assert len(routed) == 3

    def test_the_304_keeps_the_request_id(self, api: Api) -> None:
        etag = current_tag(api, "viewer")
        headers = {**api.headers("viewer"), "If-None-Match": etag, "X-Request-ID": "poll-7"}
        response = api.client.get(PIPELINE, headers=headers)
        assert response.status_code == 304
        assert response.headers["x-request-id"] == "poll-7"


class TestEverythingElseReachesTheApp:
    def test_a_change_is_answered_200_with_the_new_tag(self, api: Api, routed: list[str]) -> None:
        etag = current_tag(api, "council")
        api.create_case()
        response = poll(api, "council", etag)
        assert response.status_code == 200
        assert response.headers["etag"] != etag
        assert response.json()["states"]
        assert routed == ["route", "route"]

    def test_a_token_revoked_by_another_process_is_refused_at_once(
        self, api: Api, ctx: AppContext
    ) -> None:
        etag = current_tag(api, "viewer")
        set_token(ctx, api, "viewer", revoked_at=utcnow())
        response = poll(api, "viewer", etag)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"

    def test_an_expired_token_is_refused(self, api: Api, ctx: AppContext) -> None:
        etag = current_tag(api, "viewer")
        set_token(ctx, api, "viewer", expires_at=utcnow() - timedelta(seconds=1))
        assert poll(api, "viewer", etag).status_code == 401

    def test_unknown_tokens_are_refused_and_count_towards_the_limit(self, api: Api) -> None:
        etag = current_tag(api, "viewer")
        limiter = api.client.app.state.auth_failures  # type: ignore[attr-defined]
        headers = {"Authorization": "Bearer not-a-token", "If-None-Match": etag}
        for _ in range(limiter.limit):
            response = api.client.get(PIPELINE, headers=headers)
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "unauthenticated"
        assert poll(api, "viewer", etag).status_code == 429

    @pytest.mark.parametrize(
        ("query", "field"),
        [({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"), ({"cursor": "nope"}, "cursor")],
    )
    def test_a_query_the_route_refuses_is_refused_naming_the_field(
        self, api: Api, query: dict[str, str], field: str
    ) -> None:
        etag = current_tag(api, "viewer")
        response = poll(api, "viewer", etag, **query)
        assert response.status_code == 422
        assert field in response.text

    def test_a_use_of_the_token_that_is_due_is_recorded(
        self, api: Api, ctx: AppContext, routed: list[str]
    ) -> None:
        etag = current_tag(api, "viewer")
        long_ago = utcnow() - timedelta(hours=1)
        set_token(ctx, api, "viewer", last_used_at=long_ago)
        assert poll(api, "viewer", etag).status_code == 304
        assert routed == ["route", "route"]
        with unit_of_work(ctx.engine, write=False) as session:
            used = session.scalar(
                ApiToken.__table__.select()
                .with_only_columns(ApiToken.last_used_at)
                .where(ApiToken.token_hash == hash_token(api.tokens["viewer"]))
            )
        assert used is not None
        assert used > long_ago

    def test_an_address_over_its_failure_limit_gets_429_even_with_a_good_poll(
        self, api: Api
    ) -> None:
        etag = current_tag(api, "viewer")
        limiter = api.client.app.state.auth_failures  # type: ignore[attr-defined]
        for _ in range(limiter.limit):
            limiter.record_failure("testclient")
        assert poll(api, "viewer", etag).status_code == 429


def spy(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[str]:
    """Record each call of `module.name` (still made) in the list returned."""
    seen: list[str] = []
    real: Callable[..., Any] = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        seen.append(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return seen


@pytest.fixture
def loaded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The case reads that reached the route (which loads the case with `service.load`)."""
    return spy(monkeypatch, cases_service, "load")


def read(api: Api, case_id: str, who: str = "applicant") -> Any:
    return api.client.get(f"/api/v1/cases/{case_id}", headers=api.headers(who))


class TestAKeptCaseReadIsAnsweredBeforeTheApp:
    @pytest.mark.parametrize("who", ["applicant", "council", "viewer"])
    def test_a_second_read_never_reaches_the_route(
        self, api: Api, loaded: list[str], who: str
    ) -> None:
        case = api.create_case()
        first = read(api, case["id"], who)
        assert first.status_code == 200
        second = read(api, case["id"], who)
        assert second.status_code == 200
        assert second.content == first.content
        assert second.headers["etag"] == first.headers["etag"] == '"1"'
        assert second.headers["content-type"] == "application/json"
        assert loaded == ["load"]

    def test_each_reader_gets_its_own_body(self, api: Api, loaded: list[str]) -> None:
        case = api.create_case()
        mine = read(api, case["id"], "applicant").json()
        council = read(api, case["id"], "council").json()
        assert read(api, case["id"], "applicant").json() == mine
        assert read(api, case["id"], "council").json() == council
        assert mine["allowed_actions"] != council["allowed_actions"]
        assert len(loaded) == 2

    def test_a_change_is_read_anew(self, api: Api, loaded: list[str]) -> None:
        case = api.create_case()
        read(api, case["id"])
        assert api.patch(case["id"], applicant_name="Khu CNTT Hậu Giang").status_code == 200
        response = read(api, case["id"])
        assert response.json()["applicant_name"] == "Khu CNTT Hậu Giang"
        assert response.headers["etag"] == '"2"'
        assert len(loaded) >= 2

    def test_another_province_never_gets_the_kept_body(self, api: Api) -> None:
        case = api.create_case()
        assert read(api, case["id"], "applicant").status_code == 200
        unknown = api.client.get(
            f"/api/v1/cases/{uuid.uuid4()}", headers=api.headers("other_applicant")
        )
        response = read(api, case["id"], "other_applicant")
        assert response.status_code == 404
        assert response.json() == unknown.json()

    def test_a_ministry_not_consulted_never_gets_it(self, api: Api) -> None:
        case = api.create_case()
        read(api, case["id"], "council")
        assert read(api, case["id"], "mpi").status_code == 404

    def test_a_revoked_token_is_refused_at_once(self, api: Api, ctx: AppContext) -> None:
        case = api.create_case()
        read(api, case["id"], "council")
        set_token(ctx, api, "council", revoked_at=utcnow())
        assert read(api, case["id"], "council").status_code == 401


class TestWhatCountsAsAShortcut:
    @staticmethod
    def scope(path: str = PIPELINE, query: bytes = b"", **headers: str) -> dict[str, Any]:
        return {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": query,
            "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
        }

    def of(self, scope: dict[str, Any]) -> Poll | CaseRead | None:
        return shortcut_of(scope, Headers(scope=scope))

    def test_a_conditional_get_of_the_pipeline_is_a_poll(self) -> None:
        found = self.of(self.scope(query=b"limit=20&workflow=qtsc", if_none_match='"x"'))
        assert found == Poll('"x"', "qtsc", None, "20:")

    def test_a_get_of_a_case_is_a_case_read(self) -> None:
        case_id = uuid.uuid4()
        assert self.of(self.scope(path=f"/api/v1/cases/{case_id}")) == CaseRead(case_id, "vi")

    @pytest.mark.parametrize(
        "scope",
        [
            scope(),
            scope(path="/api/v1/cases", if_none_match="x"),
            scope(path="/api/v1/cases/not-an-id"),
            scope(path=f"/api/v1/cases/{uuid.uuid4()}/history"),
            scope(query=b"limit=201", if_none_match="x"),
            scope(query=b"limit=0", if_none_match="x"),
            scope(query=b"province=a%00b", if_none_match="x"),
        ],
    )
    def test_anything_else_is_not(self, scope: dict[str, Any]) -> None:
        assert self.of(scope) is None
