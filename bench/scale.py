"""The scale table: the same requests at 1,000, 100,000 (and, opt-in, 1,000,000) cases.

Each size gets a new database: the small Chain's tokens, the generator's applicant
organisations, then the generator's CSV loaded by `admission import cases`. Against one
`admission serve` process, one client at a time: the pipeline read in full, the filtered list
page, a case read, and one audited transition (on imported cases in council review, their
site-visit minutes uploaded first); then the server's RSS. Each figure is the median of the
requests sent in the run (at most `duration` seconds each).
"""

import inspect
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from app.admission.registry import build_context
from app.auth.service import create_organisation
from app.core.config import Settings
from app.core.db import unit_of_work
from bench import dataset, generate_cases, servers
from bench.common import Bench
from tests.factories import Api

TITLE = "Scale"
NOTE = (
    "Milliseconds per request, one client, median of the requests of a run (then median and "
    "min–max over the runs); server RSS after the run. The data set is bench/generate_cases.py's "
    "CSV loaded by `admission import cases`: one `imported` history entry per case, not the "
    "issue's ~8 (the measured cases get theirs from the transitions of the run)."
)
FORMATS = {"import s": "{:,.1f}", "server MB": "{:,.0f}"}
for _column in ("pipeline ms", "list page ms", "case read ms", "transition ms"):
    FORMATS[_column] = "{:,.1f}"
MOVED_CASES = 4
DIRECT_LOAD = "no `admission import` yet: loaded by bulk inserts, no history entries"
MAX_REQUESTS = 200


def import_available() -> bool:
    done = servers.admission("sqlite:///:memory:", Path("/tmp"), "import", "--help")
    return done.returncode == 0 and "cases" in done.stdout


def organisations(url: str, storage: Path) -> None:
    """The applicant organisations the generator's rows name (with their province, where
    organisations keep one)."""
    ctx = build_context(Settings(database_url=url, storage_dir=storage))
    takes_province = "province" in inspect.signature(create_organisation).parameters
    try:
        with unit_of_work(ctx.engine) as session:
            for slug, province in generate_cases.organisations():
                extra = {"province": province} if takes_province else {}
                create_organisation(session, slug=slug, name=province, kind="province", **extra)
    finally:
        ctx.engine.dispose()


def median_ms(request: Callable[[], None], duration: float) -> float:
    samples: list[float] = []
    deadline = time.perf_counter() + duration
    while time.perf_counter() < deadline and len(samples) < MAX_REQUESTS:
        started = time.perf_counter()
        request()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _get(http: httpx.Client, path: str, headers: dict[str, str]) -> Callable[[], None]:
    def request() -> None:
        response = http.get(path, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")

    return request


class Transitions:
    """record_site_visit on a few imported cases in council review, in turn."""

    def __init__(self, api: Api, case_ids: list[str]) -> None:
        self.api = api
        self.case_ids = case_ids
        self.turn = 0
        for case_id in case_ids:
            uploaded = api.upload(case_id, "site_visit_minutes", "council")
            assert uploaded.status_code == 201, uploaded.text

    def measure(self, duration: float) -> float:
        samples: list[float] = []
        deadline = time.perf_counter() + duration
        while time.perf_counter() < deadline and len(samples) < MAX_REQUESTS:
            case_id = self.case_ids[self.turn % len(self.case_ids)]
            self.turn += 1
            # Each site visit needs minutes uploaded since the last one (not timed).
            uploaded = self.api.upload(case_id, "site_visit_minutes", "council")
            if uploaded.status_code != 201:
                raise RuntimeError(f"upload: {uploaded.status_code} {uploaded.text[:300]}")
            version = self.api.read(case_id)["version"]
            started = time.perf_counter()
            fired = self.api.fire(case_id, "record_site_visit", "council", version)
            samples.append((time.perf_counter() - started) * 1000)
            if fired.status_code != 200:
                raise RuntimeError(f"record_site_visit: {fired.status_code} {fired.text[:300]}")
        return statistics.median(samples)


def measure_size(bench: Bench, backend: str, n: int) -> None:
    table = bench.report.table(TITLE)
    row = f"{backend}, {n:,} cases"
    url, storage = bench.database(backend, f"scale{n}")
    print(f"  {row}: loading", flush=True)
    if import_available():
        tokens = dataset.fresh(url, storage)
        organisations(url, storage)
        csv_path = generate_cases.write_file(storage.parent / "cases.csv", n)
        imported = servers.admission(url, storage, "import", "cases", str(csv_path))
        if imported.returncode != 0:
            bench.report.remark(TITLE, row, f"import failed: {imported.stderr.strip()[-300:]}")
            print(imported.stdout[-2000:], imported.stderr[-2000:])
            return
        table.add(row, "import s", imported.seconds)
    else:
        tokens = direct_load(url, storage, n)
        bench.report.remark(TITLE, row, DIRECT_LOAD)
    duration = bench.options.duration
    with (
        servers.running(servers.admission_server(url, storage, bench.workdir)) as service,
        httpx.Client(base_url=service.url, timeout=120) as http,
    ):
        api = Api(http, tokens)  # type: ignore[arg-type]  # any httpx client will do
        auth = api.headers("council")
        listed = api.list_cases(state="council_review", limit=MOVED_CASES)
        assert listed.status_code == 200, listed.text
        moved = [item["id"] for item in listed.json()["items"]]
        transitions = Transitions(api, moved)
        reads = {
            "pipeline ms": _get(http, "/api/v1/pipeline", auth),
            "list page ms": _get(http, "/api/v1/cases?state=council_review&limit=50", auth),
            "case read ms": _get(http, f"/api/v1/cases/{moved[0]}", auth),
        }
        for k in range(bench.options.runs):
            print(f"  {row}, run {k + 1}/{bench.options.runs}", flush=True)
            for column, request in reads.items():
                table.add(row, column, median_ms(request, duration))
            table.add(row, "transition ms", transitions.measure(duration))
            table.add(row, "server MB", service.rss_mb())


def direct_load(url: str, storage: Path, n: int) -> dict[str, str]:
    """Until `admission import cases` exists: N cases by bulk inserts (bench/pipeline_bench.py's
    fill), without history entries; the council's token."""
    from bench.pipeline_bench import fill
    from tests.databases import migrate

    settings = Settings(database_url=url, storage_dir=storage)
    migrate(settings, fresh=True)
    ctx = build_context(settings)
    try:
        council, _ = fill(ctx, n)
    finally:
        ctx.engine.dispose()
    return {"council": council}


def run(bench: Bench, backend: str) -> None:
    bench.report.table(TITLE, NOTE, FORMATS)
    for n in bench.options.scales:
        measure_size(bench, backend, n)
