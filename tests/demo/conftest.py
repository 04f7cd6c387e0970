"""The seeded Chain as each demo organisation sees it through the HTTP API."""

import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from app.admission.registry import build_context
from app.context import AppContext
from app.core.config import Settings
from app.demo import seed
from app.demo.pdf import placeholder_pdf
from app.main import create_app
from tests.databases import sibling_database

# Each placeholder costs tens of milliseconds of font work and the same document gives the
# same file, so tests that seed again and again reuse what was generated once.
_memoised_pdf = functools.lru_cache(maxsize=None)(placeholder_pdf)


@pytest.fixture(autouse=True)
def _reuse_placeholders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seed, "placeholder_pdf", _memoised_pdf)


@dataclass
class SeededChain:
    client: TestClient
    tokens: list[tuple[str, str, str]]

    def token(self, slug: str) -> str:
        return next(clear for s, _, clear in self.tokens if s == slug)

    def get(self, path: str, slug: str, **params: Any) -> Response:
        headers = {"Authorization": f"Bearer {self.token(slug)}"}
        return self.client.get(path, params=params, headers=headers)

    def json(self, path: str, slug: str, **params: Any) -> Any:
        response = self.get(path, slug, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def pipeline(self, slug: str = "press") -> dict[str, Any]:
        body: dict[str, Any] = self.json("/api/v1/pipeline", slug)
        return body

    def case_id(self, applicant_name: str) -> str:
        """The id of the case filed under `applicant_name`, as the press office sees it."""
        return next(
            c["id"] for c in self.pipeline()["cases"] if c["applicant_name"] == applicant_name
        )

    def history(self, applicant_name: str) -> list[dict[str, Any]]:
        path = f"/api/v1/cases/{self.case_id(applicant_name)}/history"
        items: list[dict[str, Any]] = self.json(path, "hdqlc")["items"]
        return items


@pytest.fixture(scope="session")
def chain(backend: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededChain]:
    """The demo Chain, seeded once per backend into a database of its own, for tests that only
    read it."""
    root = tmp_path_factory.mktemp("demo")
    # One per xdist worker, should the workers share a PostgreSQL server.
    name = f"admission_demo_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    settings = sibling_database(backend, root, name)
    context = build_context(settings)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(seed, "placeholder_pdf", _memoised_pdf)
        tokens = seed.seed_demo(context)
    with TestClient(create_app(context=context), raise_server_exceptions=False) as client:
        yield SeededChain(client, tokens)
    context.engine.dispose()


@pytest.fixture
def fresh_chain(ctx: AppContext, client: TestClient) -> SeededChain:
    """The demo Chain seeded into the test's own empty database, for tests that change it."""
    return SeededChain(client, seed.seed_demo(ctx))
