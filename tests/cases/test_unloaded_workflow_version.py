"""A case pinned to a workflow version this server has not loaded: the service refuses to
start, `/readyz` says so, and no read answers 500.

The case is made as a newer deployment sharing the database would make it: its row names a
version (and a state) that the files loaded here do not have."""

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from app.cases.models import Case
from app.context import AppContext
from app.core.db import unit_of_work
from app.documents.models import Document
from app.engine.pinned import UnloadedWorkflows
from app.history.models import AuditEntry
from app.main import create_app
from tests.factories import Api

KEY = "qtsc-chain-admission"
MISSING = 7
ADMISSION = str(Path(sys.executable).with_name("admission"))


def pin_to_missing_version(ctx: AppContext, case_id: str, state: str = "regional_review") -> None:
    with unit_of_work(ctx.engine) as session:
        session.execute(
            update(Case)
            .where(Case.id == uuid.UUID(case_id))
            .values(workflow_version=MISSING, state=state)
        )


def row_of(ctx: AppContext, case_id: str) -> tuple[int, str, int, int]:
    """The case's version and state, and how many history entries and documents it has."""
    with unit_of_work(ctx.engine, write=False) as session:
        case = session.get_one(Case, uuid.UUID(case_id))
        entries = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.case_id == case.id)
        )
        documents = session.scalar(
            select(func.count()).select_from(Document).where(Document.case_id == case.id)
        )
        return case.version, case.state, int(entries or 0), int(documents or 0)


@pytest.fixture
def stranded(api: Api, ctx: AppContext) -> dict[str, Any]:
    """Two cases pinned to a version that is not loaded, next to a normal one."""
    api.case_in_council_review()
    cases = [api.create_case(), api.create_case()]
    for case in cases:
        pin_to_missing_version(ctx, case["id"])
    return cases[0]


class TestStartUp:
    def test_the_app_refuses_to_start_naming_the_key_the_version_and_the_cases(
        self, api: Api, ctx: AppContext
    ) -> None:
        api.case_in_council_review()
        cases = [api.create_case(), api.create_case()]
        with TestClient(create_app(context=ctx)) as client:
            assert client.get("/readyz").json() == {"status": "ready"}
        for case in cases:
            pin_to_missing_version(ctx, case["id"])
        with (
            pytest.raises(UnloadedWorkflows) as refused,
            TestClient(create_app(context=ctx)),
        ):
            pass
        assert str(refused.value).startswith(
            f"workflow {KEY!r} version {MISSING} is used by 2 cases but is not loaded"
        )

    def test_admission_serve_exits_non_zero_with_the_message(
        self, stranded: dict[str, Any], ctx: AppContext
    ) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {
            **os.environ,
            "DATABASE_URL": ctx.settings.database_url,
            "STORAGE_DIR": str(ctx.settings.storage_dir),
            "OVERDUE_SWEEP_SECONDS": "0",
            "WEBHOOK_DELIVERY_IN_SERVE": "false",
        }
        done = subprocess.run(
            [ADMISSION, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode != 0
        assert (
            f"refusing to start: workflow {KEY!r} version {MISSING} is used by 2 cases "
            "but is not loaded"
        ) in done.stderr


class TestReadiness:
    def test_readyz_answers_503_once_a_case_uses_a_version_that_is_not_loaded(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.create_case()
        assert api.client.get("/readyz").status_code == 200
        pin_to_missing_version(ctx, case["id"])
        response = api.client.get("/readyz")
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["code"] == "workflow_unavailable"
        assert f"workflow {KEY!r} version {MISSING} is used by 1 case" in error["message"]
        assert error["details"] == {"unloaded": [{"key": KEY, "version": MISSING, "cases": 1}]}


class TestReadsNeverAnswer500:
    def test_the_list_shows_the_case_with_what_its_row_has(
        self, api: Api, stranded: dict[str, Any]
    ) -> None:
        response = api.list_cases()
        assert response.status_code == 200, response.text
        items = {item["id"]: item for item in response.json()["items"]}
        assert len(items) == 3
        shown = items[stranded["id"]]
        assert shown["workflow"] == {"key": KEY, "version": MISSING}
        assert shown["state"] == "regional_review"
        assert shown["state_label"] == {"vi": "regional_review", "en": "regional_review"}
        assert shown["portal_code"] is None
        assert api.list_cases("applicant").status_code == 200

    def test_the_pipeline_counts_the_case_and_waits_for_nobody(
        self, api: Api, stranded: dict[str, Any]
    ) -> None:
        response = api.client.get("/api/v1/pipeline", headers=api.headers("viewer"))
        assert response.status_code == 200, response.text
        body = response.json()
        states = {s["state"]: s for s in body["states"]}
        assert states["regional_review"]["count"] == 2
        assert states["regional_review"]["label"] == {
            "vi": "regional_review",
            "en": "regional_review",
        }
        assert states["council_review"]["count"] == 1
        shown = next(c for c in body["cases"] if c["id"] == stranded["id"])
        assert shown["waiting_for"] == []

    def test_the_case_read_answers_503_naming_the_workflow_version(
        self, api: Api, stranded: dict[str, Any]
    ) -> None:
        for who in ("council", "applicant"):
            english = {**api.headers(who), "Accept-Language": "en"}
            response = api.client.get(f"/api/v1/cases/{stranded['id']}", headers=english)
            assert response.status_code == 503, response.text
            assert response.json()["error"] == {
                "code": "workflow_unavailable",
                "message": f"workflow {KEY!r} version {MISSING} is not loaded on this server",
                "details": {"workflow": {"key": KEY, "version": MISSING}},
            }
        # Still 404 for another province: the 503 tells nobody that the case exists.
        response = api.client.get(
            f"/api/v1/cases/{stranded['id']}", headers=api.headers("other_applicant")
        )
        assert response.status_code == 404

    def test_the_case_s_other_routes_answer_503_and_change_nothing(
        self, api: Api, ctx: AppContext, stranded: dict[str, Any]
    ) -> None:
        case_id = stranded["id"]
        before = row_of(ctx, case_id)
        for path in ("documents", "history", "history/verify", "consultations", "portal-status"):
            response = api.client.get(
                f"/api/v1/cases/{case_id}/{path}", headers=api.headers("council")
            )
            assert response.status_code == 503, (path, response.text)
            assert response.json()["error"]["code"] == "workflow_unavailable"
        fired = api.fire(case_id, "submit", "applicant", version=stranded["version"])
        assert fired.status_code == 503
        assert fired.json()["error"]["code"] == "workflow_unavailable"
        assert api.upload(case_id, "provincial_proposal").status_code == 503
        assert row_of(ctx, case_id) == before

    def test_the_dashboard_board_and_case_page_answer(
        self, api: Api, stranded: dict[str, Any]
    ) -> None:
        headers = api.headers("council")
        board = api.client.get("/", headers=headers)
        assert board.status_code == 200, board.text
        assert "regional_review" in board.text
        page = api.client.get(f"/cases/{stranded['id']}", headers=headers)
        assert page.status_code == 503
        assert f"({KEY} v{MISSING})" in page.text
        assert "text/html" in page.headers["content-type"]
