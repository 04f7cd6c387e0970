"""Signing people in: password and second factor, server-side sessions, CSRF, throttling."""

import logging
from datetime import UTC, datetime

import pyotp
import pytest
from click.testing import CliRunner

from app.auth.users import disable_user, enable_totp
from app.cli import main as cli_main
from app.context import AppContext
from app.core.config import get_settings
from app.core.db import unit_of_work
from tests.auth.people import PASSWORD, make_user, sign_in
from tests.factories import Api, Clock

EMAIL = "lan.nt@hdqlc.example"
NEW_CASE = {"applicant_name": "Khu CNTT Hậu Giang", "unit_kind": "ict_centre"}


def post_form(api: Api, email: str, password: str, code: str = "") -> object:
    return api.client.post(
        "/signin", data={"email": email, "password": password, "code": code}, follow_redirects=False
    )


class TestSignIn:
    def test_the_session_is_an_httponly_strict_cookie_holding_no_password(
        self, api: Api, ctx: AppContext
    ) -> None:
        make_user(ctx)
        response = post_form(api, EMAIL, PASSWORD)
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("admission_session=qs_")
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "Secure" not in cookie  # plain HTTP here; over HTTPS the cookie is Secure
        assert PASSWORD not in cookie

    def test_a_wrong_password_is_refused_logged_without_it_and_sets_no_cookie(
        self, api: Api, ctx: AppContext, caplog: pytest.LogCaptureFixture
    ) -> None:
        make_user(ctx)
        with caplog.at_level(logging.WARNING, logger="admission.security"):
            response = post_form(api, EMAIL, "not the password at all")
        assert response.status_code == 401
        assert "set-cookie" not in response.headers
        assert "Thư điện tử, mật khẩu hoặc mã xác thực không đúng." in response.text
        refusals = [r for r in caplog.records if getattr(r, "event", "") == "signin_refused"]
        assert refusals
        assert all("not the password" not in r.getMessage() for r in caplog.records)

    def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password(self, api: Api) -> None:
        response = post_form(api, "nobody@nowhere.example", PASSWORD)
        assert response.status_code == 401
        assert "Thư điện tử, mật khẩu hoặc mã xác thực không đúng." in response.text

    def test_a_pasted_token_no_longer_signs_anyone_in(self, api: Api) -> None:
        response = api.client.post(
            "/signin", data={"token": api.tokens["council"]}, follow_redirects=False
        )
        assert response.status_code == 422
        assert "set-cookie" not in response.headers

    def test_the_email_is_matched_whatever_its_case(self, api: Api, ctx: AppContext) -> None:
        make_user(ctx)
        assert post_form(api, "  LAN.NT@HDQLC.example", PASSWORD).status_code == 303


class TestOneTimePassword:
    def test_it_must_be_changed_before_anything_else(self, api: Api, ctx: AppContext) -> None:
        one_time = make_user(ctx, password=None)
        response = post_form(api, EMAIL, one_time)
        assert response.headers["location"] == "/password"
        assert api.client.get("/", follow_redirects=False).headers["location"] == "/password"
        refused = api.client.get("/api/v1/cases")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "password_change_required"

        page = api.client.get("/password")
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        short = {"current": one_time, "new": "short", "again": "short", "csrf_token": csrf}
        assert api.client.post("/password", data=short).status_code == 422
        mine = "một mật khẩu của riêng tôi"
        changed = api.client.post(
            "/password",
            data={"current": one_time, "new": mine, "again": mine, "csrf_token": csrf},
            follow_redirects=False,
        )
        assert changed.status_code == 303
        assert api.client.get("/api/v1/cases").status_code == 200
        assert post_form(api, EMAIL, one_time).status_code == 401
        assert post_form(api, EMAIL, mine).status_code == 303

    def test_changing_it_without_the_csrf_token_is_refused(self, api: Api, ctx: AppContext) -> None:
        one_time = make_user(ctx, password=None)
        post_form(api, EMAIL, one_time)
        new = "một mật khẩu của riêng tôi"
        response = api.client.post(
            "/password", data={"current": one_time, "new": new, "again": new}
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "csrf_refused"


class TestSessions:
    def test_signing_out_ends_the_session_on_the_server(self, api: Api, ctx: AppContext) -> None:
        make_user(ctx)
        csrf = sign_in(api.client, EMAIL)
        kept = api.client.cookies.get("admission_session")
        assert api.client.post("/signout", data={"csrf_token": csrf}, follow_redirects=False)
        assert api.client.get("/", follow_redirects=False).status_code == 303
        api.client.cookies.set("admission_session", kept)
        assert api.client.get("/api/v1/cases").status_code == 401

    def test_signing_in_again_replaces_the_session(self, api: Api, ctx: AppContext) -> None:
        make_user(ctx)
        sign_in(api.client, EMAIL)
        first = api.client.cookies.get("admission_session")
        sign_in(api.client, EMAIL)
        second = api.client.cookies.get("admission_session")
        assert first != second
        api.client.cookies.set("admission_session", first)
        assert api.client.get("/api/v1/cases").status_code == 401

    def test_a_session_ends_after_an_idle_hour_and_after_twelve_hours_in_any_case(
        self, api: Api, ctx: AppContext
    ) -> None:
        ctx.clock = clock = Clock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
        make_user(ctx)
        sign_in(api.client, EMAIL)
        clock.advance(minutes=59)
        assert api.client.get("/api/v1/cases").status_code == 200
        clock.advance(minutes=59)  # seen 59 minutes ago: still on
        assert api.client.get("/api/v1/cases").status_code == 200
        clock.advance(minutes=61)
        assert api.client.get("/api/v1/cases").status_code == 401

        sign_in(api.client, EMAIL)
        for _ in range(13):
            clock.advance(minutes=59)
            api.client.get("/api/v1/cases")
        assert api.client.get("/api/v1/cases").status_code == 401

    def test_a_disabled_person_s_open_session_is_refused_at_the_next_request(
        self, api: Api, ctx: AppContext
    ) -> None:
        make_user(ctx)
        sign_in(api.client, EMAIL)
        assert api.client.get("/api/v1/cases").status_code == 200
        with unit_of_work(ctx.engine) as session:
            disable_user(session, EMAIL)
        assert api.client.get("/api/v1/cases").status_code == 401
        assert post_form(api, EMAIL, PASSWORD).status_code == 401


class TestCsrf:
    def test_a_change_made_with_the_cookie_needs_the_page_s_token(
        self, api: Api, ctx: AppContext
    ) -> None:
        make_user(ctx, org="hau-giang", role="applicant", email="ngoc@hau-giang.example")
        csrf = sign_in(api.client, "ngoc@hau-giang.example")
        refused = api.client.post("/api/v1/cases", json=NEW_CASE)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "csrf_refused"
        forged = api.client.post("/api/v1/cases", json=NEW_CASE, headers={"X-CSRF-Token": "x"})
        assert forged.status_code == 403
        made = api.client.post("/api/v1/cases", json=NEW_CASE, headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201, made.text

    def test_bearer_requests_stay_as_they_are(self, api: Api, ctx: AppContext) -> None:
        make_user(ctx)
        sign_in(api.client, EMAIL)
        made = api.client.post("/api/v1/cases", json=NEW_CASE, headers=api.headers("applicant"))
        assert made.status_code == 201
        assert made.json()["applicant_org"] == "hau-giang"


class TestThrottling:
    def test_five_wrong_passwords_lock_the_account_for_a_while(
        self, api: Api, ctx: AppContext
    ) -> None:
        make_user(ctx)
        for _ in range(5):
            assert post_form(api, EMAIL, "a wrong password!").status_code == 401
        locked = post_form(api, EMAIL, PASSWORD)
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) > 0
        assert "set-cookie" not in locked.headers

    def test_one_address_trying_many_accounts_is_slowed_down(
        self, api: Api, ctx: AppContext
    ) -> None:
        make_user(ctx)
        for n in range(20):
            assert post_form(api, f"guess{n}@hdqlc.example", "a wrong password!").status_code == 401
        assert post_form(api, EMAIL, PASSWORD).status_code == 429


class TestSecondFactor:
    def test_a_totp_code_is_needed_once_enabled_and_never_accepted_twice(
        self, api: Api, ctx: AppContext
    ) -> None:
        make_user(ctx)
        with unit_of_work(ctx.engine) as session:
            factor = enable_totp(session, EMAIL)
        assert post_form(api, EMAIL, PASSWORD).status_code == 401
        code = pyotp.TOTP(factor.secret).at(ctx.now())
        assert post_form(api, EMAIL, PASSWORD, code).status_code == 303
        assert post_form(api, EMAIL, PASSWORD, code).status_code == 401

    def test_a_recovery_code_works_once(self, api: Api, ctx: AppContext) -> None:
        make_user(ctx)
        with unit_of_work(ctx.engine) as session:
            factor = enable_totp(session, EMAIL)
        recovery = factor.recovery_codes[0]
        assert post_form(api, EMAIL, PASSWORD, recovery).status_code == 303
        assert post_form(api, EMAIL, PASSWORD, recovery).status_code == 401

    def test_the_command_line_prints_the_secret_and_the_recovery_codes(
        self, api: Api, ctx: AppContext
    ) -> None:
        make_user(ctx)
        env = {"DATABASE_URL": ctx.settings.database_url, "STORAGE_DIR": str(ctx.store.root)}
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(cli_main, ["user", "enable-totp", EMAIL], env=env)
        finally:
            get_settings.cache_clear()
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[0].startswith("secret: ")
        assert lines[1].startswith("uri: otpauth://totp/")
        assert len(lines) == 3 + 10
