"""Crash safety under load: SIGKILL the server mid-load, restart it, check, several times over.

    python bench/crash_bench.py --ops 1000 --cycles 3
    python -m tests.pg sh -c \\
        'python bench/crash_bench.py --ops 1000 --cycles 3 --postgres "$DATABASE_URL"'

The scenario is tests/reliability/crash.py, the one tests/reliability/test_crash.py runs
small: client threads drive transitions (and uploads) on the cases they own through one
`admission serve` process on a loopback port; once `--ops` transitions were acknowledged
in the cycle its process group gets SIGKILL; the server is started again and the database,
the document store and the API are checked against what the clients were told; then
`admission gc --min-age 0` must leave exactly the files the documents table references.

Each backend gets a fresh database (a scratch SQLite file; with --postgres, the given
database's `public` schema is dropped and rebuilt, so give it a throw-away one). Prints one
row per kill; exits 1 if any check failed.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.admission.registry import build_context
from app.core.config import Settings  # noqa: E402
from tests.databases import migrate  # noqa: E402
from tests.reliability.crash import CrashScenario, Findings, Load  # noqa: E402
from tests.reliability.servers import Server  # noqa: E402

COLUMNS = (
    ("backend", 10),
    ("kill", 4),
    ("acked", 6),
    ("found", 6),
    ("dup", 4),
    ("missing", 7),
    ("in flight", 9),
    ("kept", 4),
    ("replayed", 8),
    ("retry bad", 9),
    ("uploads", 7),
    ("chains ok", 9),
    ("unexplained", 11),
    ("doc faults", 10),
    ("orphans rm", 10),
    ("op/s", 6),
)


def row(backend: str, f: Findings) -> str:
    values = (
        backend,
        f.cycle,
        f.acked_total,
        f.found,
        len(f.duplicates),
        len(f.missing),
        f.lost,
        f.lost_committed,
        f.retried_replayed,
        len(f.retry_problems),
        f.uploads_acked,
        f"{f.chains_valid}/{f.cases}",
        len(f.unexplained),
        len(f.document_problems) + len(f.store_problems),
        f.orphans_unreferenced + f.orphans_staging,
        f"{f.acked / f.seconds:.0f}" if f.seconds else "-",
    )
    return " ".join(f"{v!s:>{w}}" for v, (_, w) in zip(values, COLUMNS, strict=True))


def run(backend: str, url: str | None, scratch: Path, load: Load) -> list[Findings]:
    database_url = url or f"sqlite:///{scratch / 'bench.db'}"
    settings = Settings(database_url=database_url, storage_dir=scratch / "documents")
    ctx = build_context(settings)
    migrate(ctx.settings, fresh=True)
    server = Server(database_url, settings.storage_dir, scratch, f"{backend}-server")
    server.start()
    results = []
    try:
        scenario = CrashScenario(ctx, server, load)
        scenario.prepare()
        for findings in scenario.run():
            print(row(backend, findings), flush=True)
            for problem in [
                *findings.unexpected[:3],
                *findings.missing[:3],
                *findings.duplicates[:3],
                *findings.unexplained[:3],
                *findings.document_problems[:3],
                *findings.store_problems[:3],
                *findings.retry_problems[:3],
            ]:
                print(f"    {problem}", flush=True)
            results.append(findings)
    finally:
        server.stop()
        ctx.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--cases", type=int, default=2, help="cases per client (default 2)")
    parser.add_argument(
        "--ops", type=int, default=1000, help="transitions acknowledged before each kill"
    )
    parser.add_argument("--cycles", type=int, default=3, help="kill and restart cycles")
    parser.add_argument("--postgres", help="a scratch PostgreSQL database URL (its data is lost)")
    parser.add_argument(
        "--only", choices=["sqlite", "postgresql"], help="run one backend (default: all given)"
    )
    args = parser.parse_args()
    load = Load(
        clients=args.clients,
        cases_per_client=args.cases,
        acked_per_cycle=args.ops,
        cycles=args.cycles,
        cycle_timeout=max(300.0, args.ops / 2),
    )
    backends: list[tuple[str, str | None]] = [("sqlite", None)]
    if args.postgres:
        backends.append(("postgresql", args.postgres))
    if args.only:
        backends = [(name, url) for name, url in backends if name == args.only]
        if not backends:
            parser.error(f"--only {args.only} needs --postgres")
    print(" ".join(f"{name:>{width}}" for name, width in COLUMNS))
    sound = True
    started = time.monotonic()
    for name, url in backends:
        with tempfile.TemporaryDirectory(prefix="crash-bench-") as scratch:
            results = run(name, url, Path(scratch), load)
        sound = sound and all(f.sound for f in results) and len(results) == load.cycles
    print(
        f"{'all checks passed' if sound else 'CHECKS FAILED'} in {time.monotonic() - started:.0f} s"
    )
    sys.exit(0 if sound else 1)


if __name__ == "__main__":
    main()
