"""Moving running cases from v1 of the Chain's workflow to v2 (which needs one more document to
submit): planned first, refused as a whole when a case cannot move, each case moved in its own
transaction with a history entry in its hash chain and an event, never twice."""

from typing import Any

import pytest
from click.testing import CliRunner

from app.admission import migration
from app.auth.actor import Actor
from app.cli import main
from app.context import AppContext
from app.core.config import get_settings
from app.engine.roles import Role
from tests.factories import SUBMIT_DOCUMENTS, error_details
from tests.versions.conftest import PinnedApi
from tests.versions.files import KEY, NEW_DOCUMENT

MIGRATIONS = f"/api/v1/workflows/{KEY}/migrations"


def migrate(api: PinnedApi, **body: Any) -> Any:
    return api.client.post(
        MIGRATIONS, json={"from_version": 1, "to_version": 2, **body}, headers=api.headers("admin")
    )


@pytest.fixture
def running(vapi: PinnedApi) -> dict[str, dict[str, Any]]:
    """On v1: a draft, a case in council review, one awaiting a supplement, a withdrawn one."""
    vapi.pinned = 1
    draft = vapi.create_case()
    review = vapi.case_in_council_review()
    supplement = vapi.case_awaiting_supplement()
    withdrawn = vapi.create_case()
    vapi.advance(withdrawn["id"], "withdraw", "applicant", reason="Không tiếp tục")
    vapi.pinned = None
    return {"draft": draft, "review": review, "supplement": supplement, "withdrawn": withdrawn}


def snapshots(api: PinnedApi, cases: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {name: api.snapshot(case["id"]) for name, case in cases.items()}


class TestPlanning:
    def test_a_dry_run_gives_the_plan_and_changes_nothing(
        self, vapi: PinnedApi, running: dict[str, dict[str, Any]]
    ) -> None:
        before = snapshots(vapi, running)
        response = migrate(vapi, dry_run=True, map={"council_review": "council_review"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["dry_run"] is True
        assert body["moved"] == 0
        assert body["closed_cases_kept"] == 1
        planned = {m["case_id"]: m for m in body["planned"]}
        assert set(planned) == {running[n]["id"] for n in ("draft", "review", "supplement")}
        review = planned[running["review"]["id"]]
        assert (review["from_state"], review["to_state"]) == ("council_review", "council_review")
        assert review["mapped"] is True
        assert review["lacking"] == [NEW_DOCUMENT]
        assert snapshots(vapi, running) == before

    def test_a_case_that_would_lack_a_document_the_new_state_implies_refuses_it_all(
        self, vapi: PinnedApi, running: dict[str, dict[str, Any]]
    ) -> None:
        before = snapshots(vapi, running)
        response = migrate(vapi)
        refused = error_details(response, 409, "migration_refused")["refused"]
        assert [(r["case_id"], r["state"]) for r in refused] == [
            (running["review"]["id"], "council_review")
        ]
        assert NEW_DOCUMENT in refused[0]["reason"]
        assert "map council_review=<state>" in refused[0]["reason"]
        assert snapshots(vapi, running) == before

    def test_a_map_naming_an_unknown_state_is_refused_naming_it(
        self, vapi: PinnedApi, running: dict[str, dict[str, Any]]
    ) -> None:
        details = error_details(migrate(vapi, map={"nowhere": "draft"}), 422, "invalid")
        assert details == {"map": {"nowhere=draft": "'nowhere' is no state of version 1"}}

    def test_only_loaded_distinct_versions_migrate(self, vapi: PinnedApi) -> None:
        error_details(migrate(vapi, to_version=9), 409, "value_conflict")
        error_details(migrate(vapi, to_version=1), 409, "value_conflict")
        response = vapi.client.post(
            "/api/v1/workflows/nope/migrations",
            json={"from_version": 1, "to_version": 2},
            headers=vapi.headers("admin"),
        )
        assert response.status_code == 404

    def test_only_an_operator_migrates(self, vapi: PinnedApi) -> None:
        response = vapi.client.post(
            MIGRATIONS, json={"from_version": 1, "to_version": 2}, headers=vapi.headers("council")
        )
        error_details(response, 403, "forbidden")


class TestMoving:
    def test_each_case_moves_with_an_entry_in_its_valid_chain_and_an_event(
        self, vapi: PinnedApi, running: dict[str, dict[str, Any]]
    ) -> None:
        response = migrate(vapi, map={"council_review": "council_review"})
        assert response.status_code == 200, response.text
        assert response.json()["moved"] == 3
        for name in ("draft", "review", "supplement"):
            case_id = running[name]["id"]
            case = vapi.read(case_id)
            assert case["workflow"] == {"key": KEY, "version": 2}
            assert vapi.verify(case_id)["valid"] is True
            entry = vapi.history(case_id)[-1]
            assert entry["action"] == "workflow_migrated"
            assert entry["actor"] == {"org": "ops", "role": "admin", "user": None}
            assert entry["fields"]["from_version"] == 1
            assert entry["fields"]["to_version"] == 2
            assert entry["fields"]["run_by"] == "ops"
            assert entry["from_state"] == entry["to_state"] == case["state"]
            (event,) = [e for e in vapi.events(case_id) if e["type"] == "case.workflow_migrated"]
            assert event["data"]["from"] == {"version": 1, "state": case["state"]}
            assert event["data"]["to"] == {"version": 2, "state": case["state"]}
            assert event["data"]["version"] == case["version"]
        review_entry = vapi.history(running["review"]["id"])[-1]
        assert review_entry["fields"]["lacking"] == [NEW_DOCUMENT]
        assert vapi.read(running["withdrawn"]["id"])["workflow"]["version"] == 1

    def test_a_read_kept_from_before_shows_the_new_version(
        self, vapi: PinnedApi, running: dict[str, dict[str, Any]]
    ) -> None:
        case_id = running["draft"]["id"]
        before = vapi.read(case_id, "applicant")
        assert migrate(vapi, map={"council_review": "council_review"}).status_code == 200
        after = vapi.read(case_id, "applicant")
        assert after["version"] == before["version"] + 1
        assert after["workflow"]["version"] == 2

    def test_a_moved_draft_follows_v2_and_a_resubmission_returns_where_it_asked(
        self, vapi: PinnedApi, running: dict[str, dict[str, Any]]
    ) -> None:
        assert migrate(vapi, map={"council_review": "council_review"}).status_code == 200
        draft = running["draft"]["id"]
        for doc_type in ("provincial_proposal", "membership_scheme", "establishment_decision"):
            assert vapi.upload(draft, doc_type).status_code == 201
        for doc_type in ("site_documents", "planning_conformity", "investment_plan"):
            assert vapi.upload(draft, doc_type).status_code == 201
        refused = vapi.fire(draft, "submit", "applicant")
        missing = error_details(refused, 409, "requirements_missing")["missing"]
        assert [m["name"] for m in missing] == [NEW_DOCUMENT]
        supplement = running["supplement"]["id"]
        assert vapi.advance(supplement, "resubmit", "applicant")["state"] == "council_review"

    def test_running_a_finished_migration_again_moves_nothing(
        self, vapi: PinnedApi, running: dict[str, dict[str, Any]]
    ) -> None:
        assert migrate(vapi, map={"council_review": "council_review"}).status_code == 200
        before = snapshots(vapi, running)
        again = migrate(vapi, map={"council_review": "council_review"})
        assert again.status_code == 200, again.text
        assert (again.json()["planned"], again.json()["moved"]) == ([], 0)
        assert snapshots(vapi, running) == before

    def test_mapping_into_a_supplement_request_sends_the_case_back_to_its_state(
        self, vapi: PinnedApi, running: dict[str, dict[str, Any]]
    ) -> None:
        response = migrate(vapi, map={"council_review": "supplement_requested"})
        assert response.status_code == 200, response.text
        review = running["review"]["id"]
        due_before = running["review"]["due_at"]
        moved = vapi.read(review)
        assert (moved["state"], moved["due_at"]) == ("supplement_requested", None)
        entry = vapi.history(review)[-1]
        assert entry["fields"]["clock"]["paused"] is True
        assert entry["fields"]["clock"]["due_at_before"] == due_before
        assert vapi.upload(review, NEW_DOCUMENT).status_code == 201
        back = vapi.advance(review, "resubmit", "applicant")
        assert back["state"] == "council_review"
        assert back["due_at"] == due_before  # the same day: the clock lost no working day


OPERATOR = Actor(org_id=0, org_slug="cli", role=Role.ADMIN)


class TestConcurrentChanges:
    def test_a_case_changed_during_the_migration_is_planned_again_and_moved(
        self, vapi: PinnedApi, vctx: AppContext, running: dict[str, dict[str, Any]]
    ) -> None:
        draft = running["draft"]["id"]

        def edit_the_draft(move: migration.Move) -> None:
            if str(move.case_id) == draft:
                assert vapi.patch(draft, investor="Quỹ đầu tư").status_code == 200

        outcome = migration.run(
            vctx,
            OPERATOR,
            KEY,
            1,
            2,
            {"council_review": "council_review"},
            before_each=edit_the_draft,
        )
        assert [str(c) for c in outcome.retried] == [draft]
        assert len(outcome.moved) == 3
        case = vapi.read(draft)
        assert case["workflow"]["version"] == 2
        assert case["investor"] == "Quỹ đầu tư"
        assert vapi.verify(draft)["valid"] is True

    def test_a_case_moved_meanwhile_into_a_mapped_state_moves_there(
        self, vapi: PinnedApi, vctx: AppContext, running: dict[str, dict[str, Any]]
    ) -> None:
        vapi.pinned = 1
        submitted = vapi.submitted_case()
        vapi.pinned = None

        def accept_it(move: migration.Move) -> None:
            if str(move.case_id) == submitted["id"]:
                vapi.advance(submitted["id"], "accept", "council")

        outcome = migration.run(
            vctx,
            OPERATOR,
            KEY,
            1,
            2,
            {"council_review": "council_review", "submitted": "submitted"},
            before_each=accept_it,
        )
        # Planned from `submitted`; accepted meanwhile, it stands in council review, which
        # the map names: it moves without the document.
        assert submitted["id"] in {str(m.case_id) for m in outcome.moved}
        assert vapi.read(submitted["id"])["workflow"]["version"] == 2

    def test_a_draft_submitted_meanwhile_without_the_new_document_is_reported(
        self, vapi: PinnedApi, vctx: AppContext
    ) -> None:
        vapi.pinned = 1
        draft = vapi.create_case()
        for doc_type in SUBMIT_DOCUMENTS:
            assert vapi.upload(draft["id"], doc_type).status_code == 201
        vapi.pinned = None

        def submit_it(move: migration.Move) -> None:
            vapi.advance(draft["id"], "submit", "applicant")

        outcome = migration.run(vctx, OPERATOR, KEY, 1, 2, {}, before_each=submit_it)
        assert outcome.moved == []
        (reported,) = outcome.reported
        assert reported.state == "submitted"
        assert NEW_DOCUMENT in reported.reason
        case = vapi.read(draft["id"])
        assert (case["workflow"]["version"], case["state"]) == (1, "submitted")


class TestTheCommand:
    @pytest.fixture
    def env(self, vctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("DATABASE_URL", vctx.settings.database_url)
        monkeypatch.setenv("WORKFLOWS_DIR", str(vctx.settings.workflows_dir))
        monkeypatch.setenv("STORAGE_DIR", str(vctx.settings.storage_dir))
        get_settings.cache_clear()
        yield
        get_settings.cache_clear()

    def test_a_dry_run_prints_the_plan_and_a_refusal_exits_non_zero(
        self, vapi: PinnedApi, running: dict[str, dict[str, Any]], env: None
    ) -> None:
        refused = CliRunner().invoke(
            main, ["workflow", "migrate", KEY, "--from", "1", "--to", "2", "--dry-run"]
        )
        assert refused.exit_code == 1
        assert "refused: 1 running case(s)" in refused.output
        assert f"in council_review: version 2 requires {NEW_DOCUMENT}" in refused.output
        args = ["workflow", "migrate", KEY, "--from", "1", "--to", "2"]
        mapped = [*args, "--map", "council_review=council_review"]
        planned = CliRunner().invoke(main, [*mapped, "--dry-run"])
        assert planned.exit_code == 0, planned.output
        lines = planned.output.splitlines()
        assert lines[0] == (
            f"{KEY} v1 -> v2: 3 running case(s) to move; 1 closed case(s) stay on v1"
        )
        assert any(
            f"council_review -> council_review (mapped), without {NEW_DOCUMENT}" in line
            for line in lines
        )
        assert lines[-1] == "dry run: nothing was changed"
        done = CliRunner().invoke(main, [*mapped, "--by", "Nguyễn Văn A"])
        assert done.exit_code == 0, done.output
        assert done.output.splitlines()[-1] == "moved 3 case(s)"
        entry = vapi.history(running["draft"]["id"])[-1]
        assert entry["actor"] == {"org": "cli", "role": "admin", "user": None}
        assert entry["fields"]["run_by"] == "Nguyễn Văn A"
        again = CliRunner().invoke(main, mapped)
        assert again.output.splitlines() == [
            f"{KEY} v1 -> v2: 0 running case(s) to move; 1 closed case(s) stay on v1",
            "moved 0 case(s)",
        ]
