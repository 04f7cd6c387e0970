"""The `admission` console script, run as a user would, against a temporary SQLite file."""

from app.demo.chain import ORGANISATIONS
from tests.commands import Cli

CAN_THO = ("--kind", "province", "--province", "Cần Thơ")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestSetUp:
    def test_an_organisation_and_its_token_made_on_the_command_line_work_over_http(
        self, cli: Cli
    ) -> None:
        created = cli.ok(
            "org",
            "create",
            "--slug",
            "hau-giang",
            "--name",
            "UBND tỉnh Hậu Giang",
            "--kind",
            "province",
            "--province",
            "Hậu Giang",
        )
        assert created == ["organisation hau-giang (province, Hậu Giang) created"]
        token = cli.ok("token", "create", "--org", "hau-giang", "--role", "applicant")[-1]
        with cli.app() as client:
            body = {
                "applicant_name": "Khu Công nghệ số tỉnh Hậu Giang",
                "province": "Hậu Giang",
                "unit_kind": "digital_technology_zone",
            }
            response = client.post("/api/v1/cases", json=body, headers=bearer(token))
            assert response.status_code == 201, response.text
            assert response.json()["applicant_org"] == "hau-giang"
            assert client.get("/api/v1/cases", headers=bearer("qa_wrong")).status_code == 401

    def test_db_upgrade_can_run_again(self, cli: Cli) -> None:
        assert cli.ok("db", "upgrade") == ["database is at the latest schema"]


class TestRefusals:
    def test_an_unknown_kind_is_refused_with_the_kinds_that_exist(self, cli: Cli) -> None:
        done = cli.run("org", "create", "--slug", "x", "--name", "X", "--kind", "city")
        assert done.returncode != 0
        assert "unknown organisation kind 'city'" in done.stderr
        assert "province" in done.stderr
        assert cli.run("token", "create", "--org", "x", "--role", "viewer").returncode != 0

    def test_an_unknown_role_is_refused_and_no_token_is_printed(self, cli: Cli) -> None:
        cli.ok("org", "create", "--slug", "can-tho", "--name", "UBND Cần Thơ", *CAN_THO)
        done = cli.run("token", "create", "--org", "can-tho", "--role", "mayor")
        assert done.returncode != 0
        assert "unknown role 'mayor'" in done.stderr
        assert "qa_" not in done.stdout
        assert cli.ok("token", "list", "--org", "can-tho") == []

    def test_a_province_organisation_without_its_province_is_refused(self, cli: Cli) -> None:
        done = cli.run("org", "create", "--slug", "can-tho", "--name", "X", "--kind", "province")
        assert done.returncode != 0
        assert "--province" in done.stderr
        assert cli.run("token", "create", "--org", "can-tho", "--role", "applicant").returncode != 0

    def test_a_province_for_another_kind_of_organisation_is_refused(self, cli: Cli) -> None:
        done = cli.run(
            "org", "create", "--slug", "mic", "--name", "MIC", "--kind", "ministry",
            "--province", "Hà Nội",
        )  # fmt: skip
        assert done.returncode != 0
        assert "only a province organisation has a province" in done.stderr

    def test_set_province_gives_an_organisation_made_without_one_its_province(
        self, cli: Cli
    ) -> None:
        from sqlalchemy import update

        from app.auth.models import Organisation
        from app.core.db import create_db_engine

        cli.ok("org", "create", "--slug", "can-tho", "--name", "UBND Cần Thơ", *CAN_THO)
        engine = create_db_engine(cli.settings)
        with engine.begin() as connection:  # as organisations made before provinces were kept
            connection.execute(update(Organisation).values(province=None))
        engine.dispose()
        token = cli.ok("token", "create", "--org", "can-tho", "--role", "applicant")[-1]
        body = {"applicant_name": "Khu CNTT tập trung Cần Thơ", "unit_kind": "ict_centre"}
        with cli.app() as client:
            refused = client.post("/api/v1/cases", json=body, headers=bearer(token))
            assert refused.status_code == 409, refused.text
            assert "set-province" in refused.json()["error"]["message"]

        assert cli.ok("org", "set-province", "--slug", "can-tho", "--province", "Cần Thơ") == [
            "organisation can-tho belongs to Cần Thơ"
        ]
        with cli.app() as client:
            created = client.post("/api/v1/cases", json=body, headers=bearer(token))
            assert created.status_code == 201, created.text
            assert created.json()["province"] == "Cần Thơ"

    def test_a_role_the_organisation_cannot_hold_is_refused(self, cli: Cli) -> None:
        cli.ok("org", "create", "--slug", "can-tho", "--name", "UBND Cần Thơ", *CAN_THO)
        done = cli.run("token", "create", "--org", "can-tho", "--role", "council")
        assert done.returncode != 0
        assert "cannot hold the council role" in done.stderr


class TestSeedDemo:
    def test_prints_one_working_token_per_organisation_and_can_run_again(self, cli: Cli) -> None:
        tokens = demo_tokens(cli.ok("seed", "--demo"))
        assert list(tokens) == [(org.slug, org.role.value) for org in ORGANISATIONS]
        again = demo_tokens(cli.ok("seed", "--demo"))
        assert list(again) == list(tokens)
        with cli.app() as client:
            for token in [*tokens.values(), *again.values()]:
                assert client.get("/api/v1/cases", headers=bearer(token)).status_code == 200
            pipeline = client.get("/api/v1/pipeline", headers=bearer(again[("press", "viewer")]))
            assert len(pipeline.json()["cases"]) == 11


def demo_tokens(lines: list[str]) -> dict[tuple[str, str], str]:
    """(slug, role) -> token, from the lines `seed --demo` prints after its header."""
    header = lines.index("demo tokens (shown once):")
    rows = [line.split() for line in lines[header + 1 :]]
    assert all(len(row) == 3 for row in rows), rows
    return {(slug, role): token for slug, role, token in rows}
