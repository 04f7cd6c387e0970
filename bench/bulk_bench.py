"""Bulk import and export of the register: rows per second at N rows, and peak memory.

    python bench/bulk_bench.py 100000 1000000
    python bench/bulk_bench.py 100000 --postgres postgresql://user@host/scratch_db [--no-sqlite]

Each N gets a fresh database (a scratch SQLite file; with --postgres, the given database's
`public` schema is dropped and rebuilt, so give it a throw-away one) and a CSV of N rows
spread over the workflow's states and 20 provinces. Each N runs in a child process of its own,
so that its peak RSS is its own; the import and the export go through the same services as
`admission import cases` and `admission export cases`.
"""

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.admission.registry import build_context  # noqa: E402
from app.auth.service import create_organisation  # noqa: E402
from app.bulk.repository import ExportFilters  # noqa: E402
from app.bulk.rows import COLUMNS, DEFAULT_WORKFLOW  # noqa: E402
from app.bulk.service import export_cases, import_cases  # noqa: E402
from app.context import AppContext  # noqa: E402
from app.core.config import Settings  # noqa: E402
from app.core.db import unit_of_work  # noqa: E402
from tests.databases import migrate  # noqa: E402

PROVINCES = 20


def write_csv(ctx: AppContext, path: Path, n: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    workflow = ctx.workflows.latest(DEFAULT_WORKFLOW)
    assert workflow is not None
    states = list(workflow.definition.states)
    now = datetime.now(UTC)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for i in range(n):
            state = rng.choice(states)
            since = now - timedelta(days=rng.randrange(1, 900), minutes=rng.randrange(1440))
            writer.writerow(
                [
                    "" if state == "draft" else f"HS-{i:08d}",
                    f"tinh-{rng.randrange(PROVINCES)}",
                    f"Khu công nghệ thông tin tập trung số {i}",
                    rng.choice(["software_park", "concentrated_it_zone", "ict_centre"]),
                    f"{rng.randrange(1000, 500000)}.{rng.randrange(100):02d}",
                    f"Phường {i % 30}, Thành phố Mỹ Tho",
                    "Công ty Cổ phần Đầu tư" if i % 3 else "",
                    state,
                    since.isoformat(timespec="seconds"),
                    "",
                    "",
                    "",
                ]
            )


def run_one(url: str, n: int) -> dict[str, float]:
    scratch = Path(tempfile.mkdtemp())
    settings = Settings(database_url=url, storage_dir=scratch / "documents")
    migrate(settings, fresh=True)
    ctx = build_context(settings)
    with unit_of_work(ctx.engine) as session:
        for i in range(PROVINCES):
            create_organisation(
                session,
                slug=f"tinh-{i}",
                name=f"UBND Tỉnh {i}",
                kind="province",
                province=f"Tỉnh {i}",
            )
    source = scratch / "cases.csv"
    write_csv(ctx, source, n)
    started, cpu = time.perf_counter(), time.process_time()
    report = import_cases(ctx, source)
    imported, import_cpu = time.perf_counter() - started, time.process_time() - cpu
    assert report.valid, report
    assert report.imported == n, report
    rss_import = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    again = import_cases(ctx, source)
    rerun = time.perf_counter() - started
    assert again.imported == 0
    assert again.skipped == n
    started, cpu = time.perf_counter(), time.process_time()
    with (scratch / "export.csv").open("w", encoding="utf-8", newline="") as out:
        written = export_cases(ctx, out, ExportFilters())
    exported, export_cpu = time.perf_counter() - started, time.process_time() - cpu
    rss_export = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert written == n
    ctx.engine.dispose()
    return {
        "import_s": imported,
        "import_cpu_s": import_cpu,
        "export_cpu_s": export_cpu,
        "peak_rss_after_export_mb": rss_export,
        "rerun_s": rerun,
        "export_s": exported,
        "peak_rss_mb": rss_import,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, help="numbers of rows, e.g. 100000 1000000")
    parser.add_argument("--postgres", help="a scratch PostgreSQL database URL (its data is lost)")
    parser.add_argument("--no-sqlite", action="store_true", help="only the PostgreSQL runs")
    parser.add_argument("--child", nargs=2, metavar=("URL", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child[0], int(args.child[1]))))
        return
    backends = [] if args.no_sqlite else [("sqlite", None)]
    backends += [("postgresql", args.postgres)] if args.postgres else []
    print(
        f"{'backend':<11} {'rows':>9} {'import s':>9} {'cpu s':>7} {'rows/s':>8} {'re-run s':>9}"
        f" {'export s':>9} {'cpu s':>7} {'rows/s':>8} {'peak RSS MB':>12}"
    )
    for name, url in backends:
        for n in args.sizes:
            with tempfile.TemporaryDirectory() as scratch:
                target = url or f"sqlite:///{scratch}/bench.db"
                done = subprocess.run(
                    [sys.executable, __file__, "--child", target, str(n)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                r = json.loads(done.stdout.strip().splitlines()[-1])
                print(
                    f"{name:<11} {n:>9} {r['import_s']:>9.1f} {r['import_cpu_s']:>7.1f}"
                    f" {n / r['import_s']:>8,.0f} {r['rerun_s']:>9.1f} {r['export_s']:>9.1f}"
                    f" {r['export_cpu_s']:>7.1f} {n / r['export_s']:>8,.0f}"
                    f" {r['peak_rss_mb']:>12.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
