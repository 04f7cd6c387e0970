"""How much a dashboard's poll costs: the pipeline read in full and answered 304, at N cases.

    python bench/pipeline_bench.py 1000 100000
    python bench/pipeline_bench.py 100000 --postgres postgresql://user@host/scratch_db

Each N gets a fresh database (a scratch SQLite file; with --postgres, the given database's
`public` schema is dropped and rebuilt, so give it a throw-away one), built by the Alembic
migrations and filled with N cases and 2N events by bulk inserts through SQLAlchemy Core.
Requests go through the real app (ASGI, in process). Prints medians in milliseconds.
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.admission.registry import build_context
from app.auth.actor import Actor  # noqa: E402
from app.auth.service import create_organisation, issue_token  # noqa: E402
from app.cases.models import Case  # noqa: E402
from app.cases.workflow_versions import unloaded_workflows  # noqa: E402
from app.context import AppContext  # noqa: E402
from app.core.config import Settings  # noqa: E402
from app.core.db import unit_of_work  # noqa: E402
from app.engine.roles import Role  # noqa: E402
from app.events.models import Event  # noqa: E402
from app.main import create_app  # noqa: E402
from app.pipeline.repository import PipelineRepository  # noqa: E402
from tests.databases import migrate  # noqa: E402

PROVINCES = 20
CHUNK = 5_000


def fill(ctx: AppContext, n: int, seed: int = 7) -> tuple[str, str]:
    """N cases spread over the workflow's states and 20 provinces; returns two tokens."""
    rng = random.Random(seed)
    workflow = ctx.workflows.latest("qtsc-chain-admission")
    assert workflow is not None
    states = list(workflow.definition.states.items())
    with unit_of_work(ctx.engine) as session:
        create_organisation(session, slug="hdqlc", name="HĐQLC", kind="council")
        _, council = issue_token(session, org_slug="hdqlc", role="council")
        org_ids = []
        for i in range(PROVINCES):
            org = create_organisation(
                session, slug=f"tinh-{i}", name=f"Tỉnh {i}", kind="province", province=f"Tỉnh {i}"
            )
            org_ids.append(org.id)
        _, applicant = issue_token(session, org_slug="tinh-0", role="applicant")
    today = ctx.today()
    now = datetime.now(UTC)
    next_event = 1
    for start in range(0, n, CHUNK):
        cases, events = [], []
        for i in range(start, min(n, start + CHUNK)):
            name, spec = rng.choice(states)
            province = rng.randrange(PROVINCES)
            case_id = uuid.uuid4()
            at = now - timedelta(days=rng.randrange(400))
            due = (
                today + timedelta(days=rng.randrange(-20, 40))
                if spec.deadline_working_days
                else None
            )
            cases.append(
                {
                    "id": case_id,
                    "code": None if name == "draft" else f"QTSC-BENCH-{i:07d}",
                    "workflow_key": workflow.key,
                    "workflow_version": workflow.version,
                    "state": name,
                    "version": 2,
                    "applicant_org_id": org_ids[province],
                    "applicant_name": f"Khu CNTT tập trung số {i}",
                    "province": f"Tỉnh {province}",
                    "province_key": f"tinh {province}",
                    "unit_kind": "concentrated_it_zone",
                    "search_text": f"khu cntt tap trung so {i}",
                    "due_at": due,
                    "state_entered_at": at,
                    "created_at": at,
                    "updated_at": at,
                }
            )
            for kind in ("case.created", "case.transitioned"):
                events.append(
                    {"id": next_event, "type": kind, "case_id": case_id, "at": at, "data": {}}
                )
                next_event += 1
        with ctx.engine.begin() as connection:
            connection.execute(insert(Case), cases)
            connection.execute(insert(Event), events)
    if ctx.engine.dialect.name == "postgresql":
        with ctx.engine.begin() as connection:
            connection.execute(text("SELECT setval('events_id_seq', :n)"), {"n": next_event})
            connection.execute(text("ANALYZE"))
    return council, applicant


def median_ms(run: Callable[[], object], times: int) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure(url: str, n: int) -> list[tuple[str, float]]:
    settings = Settings(database_url=url, storage_dir=Path(tempfile.mkdtemp()) / "documents")
    ctx = build_context(settings)
    migrate(ctx.settings, fresh=True)
    council, applicant = fill(ctx, n)
    full_times = 3 if n >= 50_000 else 10
    rows: list[tuple[str, float]] = []
    council_actor = Actor(org_id=1, org_slug="hdqlc", role=Role.COUNCIL)
    with unit_of_work(ctx.engine, write=False) as session:
        repo = PipelineRepository(session)
        today = ctx.today()
        rows.append(
            (
                "SQL: counts per state (GROUP BY)",
                median_ms(lambda: repo.counts(council_actor, today, None), full_times),
            )
        )
        rows.append(
            (
                "SQL: ETag marker (council)",
                median_ms(lambda: repo.marker(council_actor, today, None, None), 50),
            )
        )
    rows.append(
        (
            "SQL: workflow versions in use (readiness)",
            median_ms(lambda: unloaded_workflows(ctx), 50),
        )
    )
    with TestClient(create_app(context=ctx)) as client:
        for who, token in (("council", council), ("applicant", applicant)):
            headers = {"Authorization": f"Bearer {token}"}
            first = client.get("/api/v1/pipeline", headers=headers)
            assert first.status_code == 200, first.text
            shown = len(first.json()["cases"])
            rows.append(
                (
                    f"HTTP: full pipeline read, {who} ({shown} cases)",
                    median_ms(
                        lambda h=headers: client.get("/api/v1/pipeline", headers=h), full_times
                    ),
                )
            )
            conditional = {**headers, "If-None-Match": first.headers["etag"]}

            def poll(h: dict[str, str] = conditional) -> None:
                assert client.get("/api/v1/pipeline", headers=h).status_code == 304

            rows.append((f"HTTP: 304 poll, {who}", median_ms(poll, 50)))
        headers = {"Authorization": f"Bearer {council}"}
        params = {"province": "Tỉnh 3"}
        first = client.get("/api/v1/pipeline", params=params, headers=headers)
        conditional = {**headers, "If-None-Match": first.headers["etag"]}
        rows.append(
            (
                "HTTP: 304 poll, council, one province",
                median_ms(
                    lambda: client.get("/api/v1/pipeline", params=params, headers=conditional), 50
                ),
            )
        )
        rows.append(("HTTP: /readyz", median_ms(lambda: client.get("/readyz"), 50)))
        rows.append(
            (
                "HTTP: /healthz (floor: app and test client)",
                median_ms(lambda: client.get("/healthz"), 50),
            )
        )
    ctx.engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="+", type=int, help="numbers of cases, e.g. 1000 100000")
    parser.add_argument("--postgres", help="a scratch PostgreSQL database URL (its data is lost)")
    args = parser.parse_args()
    backends = [("sqlite", None)] + ([("postgresql", args.postgres)] if args.postgres else [])
    print(f"{'backend':<11} {'cases':>8}  {'measure':<48} {'median ms':>10}")
    for name, url in backends:
        for n in args.sizes:
            with tempfile.TemporaryDirectory() as scratch:
                target = url or f"sqlite:///{scratch}/bench.db"
                for label, ms in measure(target, n):
                    print(f"{name:<11} {n:>8}  {label:<48} {ms:>10.2f}", flush=True)


if __name__ == "__main__":
    main()
