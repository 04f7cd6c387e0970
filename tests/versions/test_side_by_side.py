"""Two versions of the Chain's workflow loaded at once: new cases take the latest (or the one
they name), running cases keep theirs; a published version is immutable while cases use it."""

from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.cases.models import PublishedWorkflow
from app.cli import main
from app.context import AppContext
from app.core.config import Settings, get_settings
from app.core.db import unit_of_work
from app.engine.pinned import EditedWorkflows
from app.main import create_app
from tests.factories import SUBMIT_DOCUMENTS, error_details
from tests.versions.conftest import PinnedApi, context_for
from tests.versions.files import KEY, NEW_DOCUMENT, chain, chain_v2, directory_with, write


def drafted(api: PinnedApi, version: int | None) -> dict:
    api.pinned = version
    case = api.create_case()
    for doc_type in SUBMIT_DOCUMENTS:
        assert api.upload(case["id"], doc_type).status_code == 201
    return case


class TestNewCases:
    def test_a_new_case_takes_the_latest_version(self, vapi: PinnedApi) -> None:
        assert vapi.create_case()["workflow"] == {"key": KEY, "version": 2}

    def test_a_new_case_may_name_an_older_loaded_version(self, vapi: PinnedApi) -> None:
        vapi.pinned = 1
        assert vapi.create_case()["workflow"] == {"key": KEY, "version": 1}

    def test_a_version_that_is_not_loaded_is_refused_naming_the_field(
        self, vapi: PinnedApi
    ) -> None:
        response = vapi.client.post(
            "/api/v1/cases",
            json={"applicant_name": "X", "unit_kind": "software_park", "workflow_version": 9},
            headers=vapi.headers("applicant"),
        )
        details = error_details(response, 409, "value_conflict")
        assert details == {"workflow_version": "not loaded; the latest is 2"}


class TestEachCaseFollowsItsVersion:
    def test_a_v1_case_submits_without_the_document_v2_added(self, vapi: PinnedApi) -> None:
        case = drafted(vapi, 1)
        assert vapi.advance(case["id"], "submit", "applicant")["state"] == "submitted"

    def test_a_v2_case_is_refused_until_it_has_the_new_document(self, vapi: PinnedApi) -> None:
        case = drafted(vapi, None)
        refused = vapi.fire(case["id"], "submit", "applicant")
        missing = error_details(refused, 409, "requirements_missing")["missing"]
        assert [m["name"] for m in missing] == [NEW_DOCUMENT]
        assert vapi.upload(case["id"], NEW_DOCUMENT).status_code == 201
        assert vapi.advance(case["id"], "submit", "applicant")["state"] == "submitted"

    def test_a_v1_case_cannot_upload_a_type_only_v2_has(self, vapi: PinnedApi) -> None:
        case = drafted(vapi, 1)
        assert vapi.upload(case["id"], NEW_DOCUMENT).status_code in (409, 422)


def recorded(ctx: AppContext) -> dict[tuple[str, int], str]:
    with unit_of_work(ctx.engine, write=False) as session:
        rows = session.scalars(select(PublishedWorkflow))
        return {(r.workflow_key, r.workflow_version): r.content_hash for r in rows}


class TestPublishedVersionsAreImmutable:
    def test_each_loaded_version_s_content_hash_is_recorded_at_start_up(
        self, vapi: PinnedApi, vctx: AppContext
    ) -> None:
        assert recorded(vctx) == {(w.key, w.version): w.content_hash for w in vctx.workflows}

    def test_the_service_refuses_to_start_naming_the_file_edited_in_place(
        self, vapi: PinnedApi, vctx: AppContext, backend: Settings, tmp_path: Path
    ) -> None:
        vapi.pinned = 1
        vapi.create_case()
        edited = chain(1)
        edited["states"]["council_review"]["deadline_working_days"] = 30
        later = directory_with(tmp_path / "later", chain_v2(), edited)
        context = context_for(backend, later, tmp_path / "documents")
        try:
            with pytest.raises(EditedWorkflows) as refused, TestClient(create_app(context=context)):
                pass
        finally:
            context.engine.dispose()
        message = str(refused.value)
        assert message.startswith(f"{KEY}.v1.yaml: workflow {KEY!r} version 1 was edited in place")
        assert "is used by 1 case" in message
        assert "put the change in a new version" in message

    def test_a_comment_or_layout_change_is_no_edit(
        self, vapi: PinnedApi, vctx: AppContext, backend: Settings, tmp_path: Path
    ) -> None:
        vapi.pinned = 1
        vapi.create_case()
        later = directory_with(tmp_path / "later", chain_v2(), shipped=False)
        write(later, chain(1))  # the same content, without the file's comments
        context = context_for(backend, later, tmp_path / "documents")
        try:
            with TestClient(create_app(context=context)) as client:
                assert client.get("/readyz").json() == {"status": "ready"}
        finally:
            context.engine.dispose()

    def test_a_version_no_case_uses_may_be_corrected_and_its_new_hash_is_kept(
        self, vapi: PinnedApi, vctx: AppContext, backend: Settings, tmp_path: Path
    ) -> None:
        vapi.create_case()  # on v2: v1 is used by no case
        edited = chain(1)
        edited["states"]["council_review"]["deadline_working_days"] = 30
        later = directory_with(tmp_path / "later", chain_v2(), edited)
        context = context_for(backend, later, tmp_path / "documents")
        try:
            with TestClient(create_app(context=context)) as client:
                assert client.get("/readyz").status_code == 200
            assert recorded(context)[KEY, 1] == context.workflows.get(KEY, 1).content_hash
        finally:
            context.engine.dispose()

    def test_readyz_answers_503_when_another_process_recorded_other_content(
        self, vapi: PinnedApi, vctx: AppContext
    ) -> None:
        vapi.pinned = 1
        vapi.create_case()
        with unit_of_work(vctx.engine) as session:
            row = session.get_one(PublishedWorkflow, (KEY, 1))
            row.content_hash = "0" * 64
        response = vapi.client.get("/readyz")
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["code"] == "workflow_unavailable"
        assert error["details"] == {
            "edited": [{"key": KEY, "version": 1, "source": f"{KEY}.v1.yaml", "cases": 1}]
        }


class TestServeCommand:
    def test_admission_serve_exits_2_naming_the_edited_file(
        self,
        vapi: PinnedApi,
        vctx: AppContext,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        vapi.pinned = 1
        vapi.create_case()
        edited = chain(1)
        edited["document_types"]["site_documents"]["label"]["en"] = "Land documents"
        later = directory_with(tmp_path / "later", chain_v2(), edited)
        monkeypatch.setenv("DATABASE_URL", vctx.settings.database_url)
        monkeypatch.setenv("WORKFLOWS_DIR", str(later))
        monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "documents"))
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(main, ["serve", "--port", "1"])
        finally:
            get_settings.cache_clear()
        assert result.exit_code == 2
        assert (
            f"error: refusing to start: {KEY}.v1.yaml: workflow {KEY!r} version 1 was edited "
            "in place"
        ) in result.output
