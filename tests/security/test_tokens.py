"""Tokens (OWASP API2): hashed at rest, last use recorded cheaply, refusals logged without the
token, and repeated failures from one client slowed down with 429."""

import logging
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from app.api.security import FailureLimiter
from app.auth.models import ApiToken
from app.auth.tokens import hash_token
from app.cli import main as cli_main
from app.context import AppContext
from app.core.config import get_settings
from app.core.db import unit_of_work, writer_bind
from app.core.models import utcnow
from app.main import create_app
from app.models import Base
from tests.factories import Api, error_details, make_tokens


def last_used(ctx: AppContext, token: str) -> object:
    with unit_of_work(ctx.engine, write=False) as session:
        return session.scalar(
            select(ApiToken.last_used_at).where(ApiToken.token_hash == hash_token(token))
        )


def set_last_used(ctx: AppContext, token: str, value: object) -> None:
    with unit_of_work(ctx.engine) as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == hash_token(token))
            .values(last_used_at=value)
        )


class TestAtRest:
    def test_no_column_of_any_table_holds_a_token_in_clear(self, api: Api, ctx: AppContext) -> None:
        api.create_case()
        with ctx.engine.connect() as conn:
            dump = repr(
                [conn.execute(table.select()).all() for table in Base.metadata.sorted_tables]
            )
        for token in api.tokens.values():
            assert token not in dump
            assert token[10:30] not in dump

    def test_a_response_never_carries_a_token_or_its_hash(self, api: Api) -> None:
        case = api.case_in_council_review()
        bodies = [
            api.client.get(path, headers=api.headers("council")).text
            for path in (
                f"/api/v1/cases/{case['id']}",
                f"/api/v1/cases/{case['id']}/history",
                f"/api/v1/cases/{case['id']}/documents",
                "/api/v1/cases",
                "/api/v1/events",
                "/api/v1/pipeline",
            )
        ]
        for token in api.tokens.values():
            for body in bodies:
                assert token not in body
                assert hash_token(token) not in body


class TestLastUsed:
    def test_a_request_records_when_the_token_was_used(self, api: Api, ctx: AppContext) -> None:
        token = api.tokens["viewer"]
        set_last_used(ctx, token, None)
        before = utcnow()
        assert api.list_cases("viewer").status_code == 200
        used = last_used(ctx, token)
        assert used is not None
        assert used >= before - timedelta(seconds=1)  # type: ignore[operator]

    def test_it_is_written_at_most_once_a_minute(self, api: Api, ctx: AppContext) -> None:
        token = api.tokens["viewer"]
        recent = utcnow() - timedelta(seconds=30)
        set_last_used(ctx, token, recent)
        assert api.list_cases("viewer").status_code == 200
        assert last_used(ctx, token) == recent
        stale = utcnow() - timedelta(minutes=5)
        set_last_used(ctx, token, stale)
        assert api.list_cases("viewer").status_code == 200
        assert last_used(ctx, token) > stale  # type: ignore[operator]

    def test_a_read_is_neither_held_up_nor_failed_by_a_writer_holding_the_lock(
        self, api: Api, ctx: AppContext
    ) -> None:
        token = api.tokens["viewer"]
        set_last_used(ctx, token, None)
        with writer_bind(ctx.engine).connect() as blocker:
            if ctx.engine.dialect.name == "sqlite":
                blocker.exec_driver_sql("SELECT 1")  # begins IMMEDIATE: SQLite's one write lock
            else:
                blocker.execute(
                    text("SELECT id FROM api_tokens WHERE token_hash = :h FOR UPDATE"),
                    {"h": hash_token(token)},
                )
            done = threading.Event()
            result: dict[str, int] = {}

            def read() -> None:
                result["status"] = api.list_cases("viewer").status_code
                done.set()

            threading.Thread(target=read, daemon=True).start()
            finished = done.wait(timeout=10)
            blocker.rollback()
        assert finished, "the read waited for the writer"
        assert result["status"] == 200
        assert last_used(ctx, token) is None  # skipped, to be recorded by a later request


class TestRefusalsAreLogged:
    def test_a_bad_token_is_logged_with_the_request_id_and_without_the_token(
        self, api: Api, caplog: pytest.LogCaptureFixture
    ) -> None:
        bad = "qa_" + "x" * 43
        with caplog.at_level(logging.WARNING, logger="admission.security"):
            response = api.client.get("/api/v1/cases", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401
        records = [r for r in caplog.records if r.name == "admission.security"]
        assert len(records) == 1
        record = records[0]
        assert record.status == 401  # type: ignore[attr-defined]
        assert record.path == "/api/v1/cases"  # type: ignore[attr-defined]
        assert record.request_id  # type: ignore[attr-defined]
        if "x-request-id" in response.headers:
            assert record.request_id == response.headers["x-request-id"]  # type: ignore[attr-defined]
        assert bad not in caplog.text
        assert bad[:10] not in caplog.text

    def test_a_refused_role_is_logged(self, api: Api, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level(logging.WARNING, logger="admission.security"):
            response = api.client.post(
                "/api/v1/cases",
                json={"applicant_name": "X", "province": "Y", "unit_kind": "ict_centre"},
                headers=api.headers("viewer"),
            )
        assert response.status_code == 403
        records = [r for r in caplog.records if r.name == "admission.security"]
        assert [r.status for r in records] == [403]  # type: ignore[attr-defined]
        assert api.tokens["viewer"] not in caplog.text


@pytest.fixture
def strict_client(ctx: AppContext) -> Iterator[TestClient]:
    ctx.settings = ctx.settings.model_copy(
        update={"auth_failure_limit": 3, "auth_failure_window_seconds": 60}
    )
    with TestClient(create_app(context=ctx), raise_server_exceptions=False) as client:
        yield client


class TestGuessingIsSlowedDown:
    def test_after_the_limit_a_client_gets_429_with_retry_after(
        self, strict_client: TestClient, ctx: AppContext
    ) -> None:
        good = make_tokens(ctx)["council"]
        for i in range(3):
            response = strict_client.get(
                "/api/v1/cases", headers={"Authorization": f"Bearer qa_guess{i}"}
            )
            assert response.status_code == 401
        refused = strict_client.get("/api/v1/cases", headers={"Authorization": "Bearer qa_4"})
        details = error_details(refused, 429, "too_many_requests")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert details["retry_after"] == int(refused.headers["retry-after"])
        # Even a good token waits: the client, not the token, is slowed down.
        assert (
            strict_client.get("/api/v1/cases", headers={"Authorization": f"Bearer {good}"})
        ).status_code == 429

    def test_the_client_may_try_again_once_the_window_has_passed(
        self, strict_client: TestClient, ctx: AppContext
    ) -> None:
        good = make_tokens(ctx)["council"]
        now = [1000.0]
        limiter: FailureLimiter = strict_client.app.state.auth_failures  # type: ignore[attr-defined]
        limiter.clock = lambda: now[0]
        for _ in range(3):
            strict_client.get("/api/v1/cases", headers={"Authorization": "Bearer qa_guess"})
        bearer = {"Authorization": f"Bearer {good}"}
        assert strict_client.get("/api/v1/cases", headers=bearer).status_code == 429
        now[0] += 61
        assert strict_client.get("/api/v1/cases", headers=bearer).status_code == 200

    def test_requests_with_good_tokens_do_not_count(
        self, strict_client: TestClient, ctx: AppContext
    ) -> None:
        good = make_tokens(ctx)["council"]
        for _ in range(10):
            response = strict_client.get(
                "/api/v1/cases", headers={"Authorization": f"Bearer {good}"}
            )
            assert response.status_code == 200


class TestFailureLimiter:
    def test_counts_per_key_and_forgets_old_failures(self) -> None:
        now = [0.0]
        limiter = FailureLimiter(2, 10, clock=lambda: now[0])
        limiter.record_failure("a")
        limiter.record_failure("a")
        limiter.record_failure("b")
        assert limiter.retry_after("a") == 10
        assert limiter.retry_after("b") is None
        now[0] = 5
        assert limiter.retry_after("a") == 5
        now[0] = 10.5
        assert limiter.retry_after("a") is None


class TestTokenCommands:
    def run(self, ctx: AppContext, *args: str) -> list[str]:
        env = {"DATABASE_URL": ctx.settings.database_url, "STORAGE_DIR": str(ctx.store.root)}
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(cli_main, ["token", *args], env=env)
        finally:
            get_settings.cache_clear()
        assert result.exit_code == 0, result.output
        return result.output.splitlines()

    def test_a_token_may_be_given_an_expiry(self, api: Api, ctx: AppContext) -> None:
        clear = self.run(
            ctx, "create", "--org", "hau-giang", "--role", "applicant", "--expires-in-days", "30"
        )[-1]
        with unit_of_work(ctx.engine, write=False) as session:
            token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(clear)))
        assert token is not None
        assert token.expires_at is not None
        assert timedelta(days=29) < token.expires_at - utcnow() <= timedelta(days=30)
        assert (
            api.client.get(
                "/api/v1/cases", headers={"Authorization": f"Bearer {clear}"}
            ).status_code
            == 200
        )

    def test_list_shows_use_and_revoke_takes_effect_on_the_next_request(
        self, api: Api, ctx: AppContext
    ) -> None:
        clear = self.run(ctx, "create", "--org", "press", "--role", "viewer")[-1]
        bearer = {"Authorization": f"Bearer {clear}"}
        assert api.client.get("/api/v1/pipeline", headers=bearer).status_code == 200
        listed = [
            line for line in self.run(ctx, "list", "--org", "press") if line.startswith(clear[:10])
        ]
        assert len(listed) == 1
        assert "active" in listed[0]
        assert "used never" not in listed[0]
        self.run(ctx, "revoke", "--prefix", clear[:10])
        error_details(api.client.get("/api/v1/pipeline", headers=bearer), 401, "unauthenticated")
        listed = [
            line for line in self.run(ctx, "list", "--org", "press") if line.startswith(clear[:10])
        ]
        assert "revoked" in listed[0]
