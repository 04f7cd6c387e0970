"""Every test that touches the service runs once on SQLite and once on PostgreSQL.

The schema is built by the real Alembic migrations; each test starts from empty tables.
Set ADMISSION_TEST_BACKENDS=sqlite (or postgresql) to run one backend only, and
ADMISSION_TEST_POSTGRES_URL to use an existing server instead of starting one.
"""

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.admission.registry import load_workflows
from app.context import AppContext
from app.core.config import Settings
from app.core.models import utcnow
from app.engine.loader import WorkflowRegistry
from app.main import create_app, install_state
from app.models import Base
from tests import pg, s3
from tests.commands import Cli
from tests.databases import migrated
from tests.factories import Api, make_tokens

BACKENDS = [
    b for b in os.environ.get("ADMISSION_TEST_BACKENDS", "sqlite,postgresql").split(",") if b
]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    existing = os.environ.get("ADMISSION_TEST_POSTGRES_URL")
    if existing:
        yield existing
        return
    server = pg.start()
    try:
        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE admission_test")
        yield server.url("admission_test")
    finally:
        server.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for one migrated database of the given backend, shared by the session's tests."""
    root = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        url = f"sqlite:///{root / 'admission.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    return migrated(url, root)


def empty_all_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(scope="session")
def workflows(backend: Settings) -> WorkflowRegistry:
    """The workflow files, read once: no test changes them in place."""
    return load_workflows(backend.workflows_dir)


@dataclass
class Shared:
    """One backend's context and app, built once per worker, with the settings they began with."""

    context: AppContext
    settings: Settings
    app: FastAPI


@pytest.fixture(scope="session")
def shared(
    backend: Settings, workflows: WorkflowRegistry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shared]:
    settings = backend.model_copy(update={"storage_dir": tmp_path_factory.mktemp("documents")})
    context = AppContext.from_settings(settings, workflows)
    yield Shared(context, settings, create_app(context=context))
    context.engine.dispose()


def empty_store(context: AppContext) -> None:
    root = context.settings.storage_dir
    for entry in root.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    (root / "tmp").mkdir()


@pytest.fixture
def ctx(shared: Shared) -> AppContext:
    """The backend's context as it began: empty tables, no documents, its settings, the wall
    clock. Tests may change its settings or clock; the next test gets them back."""
    context = shared.context
    context.settings = shared.settings
    context.clock = utcnow
    empty_store(context)
    empty_all_tables(context.engine)
    return context


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[s3.S3Server]:
    """moto's S3 server on loopback, started for the tests that ask for it."""
    server = s3.start(tmp_path_factory.mktemp("s3"))
    yield server
    server.stop()


@pytest.fixture
def s3_ctx(
    backend: Settings,
    workflows: WorkflowRegistry,
    s3_server: s3.S3Server,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[AppContext]:
    """As `ctx`, with the documents in a new bucket of the S3 server (parts of 5 MiB)."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    settings = backend.model_copy(
        update={
            "storage_url": f"s3://{s3_server.new_bucket()}/documents",
            "s3_endpoint_url": s3_server.url,
            "s3_region": s3.REGION,
            "s3_part_bytes": 5 * 1024 * 1024,
        }
    )
    context = AppContext.from_settings(settings, workflows)
    empty_all_tables(context.engine)
    yield context
    context.store.close()
    context.engine.dispose()


@pytest.fixture
def s3_api(s3_ctx: AppContext) -> Iterator[Api]:
    with TestClient(create_app(context=s3_ctx), raise_server_exceptions=False) as test_client:
        yield Api(test_client, make_tokens(s3_ctx))


@pytest.fixture(scope="session")
def shared_client(shared: Shared) -> Iterator[TestClient]:
    with TestClient(shared.app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def client(shared_client: TestClient, ctx: AppContext) -> TestClient:
    """The backend's app, its per-process state new (from the settings as the test's fixtures
    left them) and no cookies."""
    install_state(shared_client.app, ctx)  # type: ignore[arg-type]
    shared_client.cookies.clear()
    return shared_client


@pytest.fixture
def is_postgres(ctx: AppContext) -> bool:
    return ctx.engine.dialect.name == "postgresql"


@pytest.fixture
def api(client: TestClient, ctx: AppContext) -> Api:
    return Api(client, make_tokens(ctx))


@pytest.fixture(scope="session")
def migrated_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file brought to the newest migration by `admission db upgrade`, once."""
    template = Cli(tmp_path_factory.mktemp("cli-template"))
    template.ok("db", "upgrade")
    return template.root / "x.db"


@pytest.fixture
def cli(tmp_path: Path, migrated_file: Path) -> Cli:
    """`admission` on a database of its own, as `db upgrade` left it."""
    shutil.copyfile(migrated_file, tmp_path / "x.db")
    return Cli(tmp_path)
