"""People: accounts, passwords, personal tokens and disabling, on both databases."""

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.auth.models import User
from app.auth.users import create_user, disable_user
from app.cli import main as cli_main
from app.context import AppContext
from app.core.config import get_settings
from app.core.db import unit_of_work
from app.core.errors import Conflict, InvalidInput
from tests.auth.people import PASSWORD, make_user
from tests.factories import Api


def run(ctx: AppContext, *args: str, stdin: str | None = None) -> list[str]:
    env = {"DATABASE_URL": ctx.settings.database_url, "STORAGE_DIR": str(ctx.store.root)}
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli_main, list(args), env=env, input=stdin)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestAccounts:
    def test_an_email_names_one_account_whatever_its_case(self, api: Api, ctx: AppContext) -> None:
        make_user(ctx, email="Lan.NT@hdqlc.example")
        with pytest.raises(Conflict), unit_of_work(ctx.engine) as session:
            create_user(
                session,
                org_slug="hdqlc",
                role="council",
                email="lan.nt@HDQLC.example",
                name="Another",
                password=PASSWORD,
            )

    def test_a_password_shorter_than_twelve_characters_is_refused(
        self, api: Api, ctx: AppContext
    ) -> None:
        with pytest.raises(InvalidInput, match="at least 12"), unit_of_work(ctx.engine) as s:
            create_user(
                s, org_slug="hdqlc", role="council", email="a@b.example", name="A", password="short"
            )

    def test_a_role_the_organisation_cannot_hold_is_refused(
        self, api: Api, ctx: AppContext
    ) -> None:
        with pytest.raises(InvalidInput, match="cannot hold"), unit_of_work(ctx.engine) as s:
            create_user(
                s,
                org_slug="hau-giang",
                role="council",
                email="x@y.example",
                name="X",
                password=None,
            )

    def test_the_password_is_kept_only_as_an_argon2id_hash(self, api: Api, ctx: AppContext) -> None:
        make_user(ctx)
        with unit_of_work(ctx.engine, write=False) as session:
            stored = session.scalar(select(User.password_hash))
        assert stored is not None
        assert stored.startswith("$argon2id$")
        assert PASSWORD not in stored


class TestCommands:
    def test_create_list_disable_and_reset_from_the_command_line(
        self, api: Api, ctx: AppContext
    ) -> None:
        out = run(
            ctx, "user", "create", "--org", "mic", "--role", "ministry",
            "--email", "tuan.lm@mic.example", "--name", "Lê Minh Tuấn",
        )  # fmt: skip
        assert out[1] == "one-time password (to be changed at first sign-in):"
        assert len(out[2]) == 16
        listed = run(ctx, "user", "list", "--org", "mic")
        assert "tuan.lm@mic.example" in listed[0]
        assert "must-change-password" in listed[0]
        assert "Lê Minh Tuấn" in listed[0]
        reset = run(ctx, "user", "reset-password", "TUAN.LM@mic.example")
        assert len(reset[-1]) == 16
        assert reset[-1] != out[2]
        run(ctx, "user", "disable", "tuan.lm@mic.example")
        assert " disabled " in run(ctx, "user", "list", "--org", "mic")[0]

    def test_a_password_may_be_given_on_standard_input(self, api: Api, ctx: AppContext) -> None:
        out = run(
            ctx, "user", "create", "--org", "vpcp", "--role", "government",
            "--email", "huong.bt@vpcp.example", "--name", "Bùi Thị Hương", "--password-stdin",
            stdin=PASSWORD + "\n",
        )  # fmt: skip
        assert len(out) == 1
        assert "must-change-password" not in run(ctx, "user", "list", "--org", "vpcp")[0]


class TestPersonalTokens:
    def test_a_personal_token_acts_as_its_person_until_they_are_disabled(
        self, api: Api, ctx: AppContext
    ) -> None:
        make_user(ctx, org="hau-giang", role="applicant", email="ngoc@hau-giang.example")
        token = run(ctx, "token", "create", "--user", "ngoc@hau-giang.example")[-1]
        created = api.client.post(
            "/api/v1/cases",
            json={"applicant_name": "Khu CNTT Hậu Giang", "unit_kind": "ict_centre"},
            headers=bearer(token),
        )
        assert created.status_code == 201, created.text
        assert created.json()["applicant_org"] == "hau-giang"
        with unit_of_work(ctx.engine) as session:
            disable_user(session, "ngoc@hau-giang.example")
        refused = api.client.get("/api/v1/cases", headers=bearer(token))
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthenticated"

    def test_token_create_takes_either_a_user_or_an_organisation_and_role(
        self, api: Api, ctx: AppContext
    ) -> None:
        env = {"DATABASE_URL": ctx.settings.database_url, "STORAGE_DIR": str(ctx.store.root)}
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(
                cli_main, ["token", "create", "--user", "a@b.example", "--org", "mic"], env=env
            )
        finally:
            get_settings.cache_clear()
        assert result.exit_code == 2
        assert "either --user" in result.output
