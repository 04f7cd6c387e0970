"""An app whose workflows directory holds the Chain's v1 and a v2 that needs one more document."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.admission.registry import load_workflows
from app.context import AppContext
from app.core.config import Settings
from app.main import create_app
from tests.conftest import empty_all_tables
from tests.factories import Api, make_tokens
from tests.versions.files import chain_v2, directory_with


class PinnedApi(Api):
    """The API, creating cases on `pinned` (a version of the Chain) when it is set."""

    pinned: int | None = None

    def create_case(self, who: str = "applicant", **fields: Any) -> dict[str, Any]:
        if self.pinned is not None:
            fields.setdefault("workflow_version", self.pinned)
        return super().create_case(who, **fields)


def context_for(backend: Settings, workflows_dir: Path, storage: Path) -> AppContext:
    settings = backend.model_copy(update={"workflows_dir": workflows_dir, "storage_dir": storage})
    return AppContext.from_settings(settings, load_workflows(workflows_dir))


@pytest.fixture
def versions_dir(tmp_path: Path) -> Path:
    return directory_with(tmp_path / "workflows", chain_v2())


@pytest.fixture
def vctx(backend: Settings, versions_dir: Path, tmp_path: Path) -> Iterator[AppContext]:
    context = context_for(backend, versions_dir, tmp_path / "documents")
    empty_all_tables(context.engine)
    yield context
    context.engine.dispose()


@pytest.fixture
def vapi(vctx: AppContext) -> Iterator[PinnedApi]:
    with TestClient(create_app(context=vctx), raise_server_exceptions=False) as client:
        yield PinnedApi(client, make_tokens(vctx))
