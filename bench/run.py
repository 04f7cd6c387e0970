"""Every benchmark of the service, on SQLite and on a throw-away PostgreSQL server.

    python bench/run.py                              # everything, 3 runs of 10 s
    python bench/run.py --duration 3 --runs 1        # a quick pass
    python bench/run.py --sections requests,engine --backends sqlite
    python bench/run.py --sections scale --scale 1000,100000,1000000

Prints each table as it is filled and writes docs/performance.md (unless --no-write): the
date, the machine, the versions, and per table the median of the runs with their min–max.
"""

import argparse
import contextlib
import os
import platform
import sqlite3
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# tests/factories.py (the API helpers) imports FastAPI's TestClient, which warns about httpx.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

from bench import bulk, engine, peer, requests, scale, servers  # noqa: E402
from bench.common import Bench, Options  # noqa: E402
from bench.report import Report, markdown_table, text_table  # noqa: E402

OUTPUT = servers.ROOT / "docs" / "performance.md"
BACKENDS = ("sqlite", "postgresql")
# name -> (runs per backend?, function)
SECTIONS: dict[str, tuple[bool, Callable[..., None]]] = {
    "requests": (True, requests.run),
    "engine": (False, engine.run),
    "peer": (False, peer.run),
    "scale": (True, scale.run),
    "bulk": (True, bulk.run),
}


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sections", default=",".join(SECTIONS), help=f"comma-separated, of {', '.join(SECTIONS)}"
    )
    parser.add_argument("--backends", default=",".join(BACKENDS), help="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=3, help="runs of each measure (default 3)")
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds of each load run (default 10)"
    )
    parser.add_argument(
        "--scale",
        type=_sizes,
        default=[1_000, 100_000],
        help="case counts of the scale table (default 1000,100000; add 1000000 for the full run)",
    )
    parser.add_argument(
        "--bulk-sizes",
        type=_sizes,
        default=[10_000, 100_000],
        help="rows imported and exported by the bulk table (default 10000,100000)",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    for name in args.sections.split(","):
        if name not in SECTIONS:
            parser.error(f"unknown section {name!r}")
    for name in args.backends.split(","):
        if name not in BACKENDS:
            parser.error(f"unknown backend {name!r}")
    return args


def machine() -> list[str]:
    memory = next(
        line.split()[1]
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"{os.cpu_count()} cores ({model}), {int(memory) / 1024 / 1024:.1f} GiB memory",
        f"{platform.system()} {platform.release()}; load average at the start: {load}",
    ]


def versions(bench: Bench) -> str:
    names = ["fastapi", "uvicorn", "sqlalchemy", "transitions", "httpx", "spiffworkflow"]
    found = [f"Python {platform.python_version()}"]
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{name} {metadata.version(name)}")
    found.append(f"SQLite {sqlite3.sqlite_version}")
    if bench.postgres is not None:
        import psycopg

        with psycopg.connect(bench.postgres.url()) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        found.append(f"PostgreSQL {row[0] if row else '?'} (local, fsync on)")
    return ", ".join(found)


def document(bench: Bench, started: datetime, seconds: float, argv: list[str]) -> str:
    lines = [
        "# Performance",
        "",
        "Written by `make bench` (`python bench/run.py`); do not edit by hand.",
        "Each cell is the median of the runs, with their min–max in brackets.",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} UTC, {seconds / 60:.0f} min",
        *(f"- machine: {line}" for line in machine()),
        f"- versions: {versions(bench)}",
        f"- command: `python bench/run.py {' '.join(argv)}`".replace("  ", " "),
        f"- runs: {bench.options.runs}, load runs of {bench.options.duration:g} s",
        "",
    ]
    for table in bench.report.tables.values():
        lines += [markdown_table(table), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    options = Options(
        runs=args.runs, duration=args.duration, scales=args.scale, bulk_sizes=args.bulk_sizes
    )
    backends = args.backends.split(",")
    started, clock = datetime.now(UTC), time.monotonic()
    with tempfile.TemporaryDirectory(prefix="admission-bench-") as scratch:
        bench = Bench(options, Path(scratch), Report())
        try:
            if "postgresql" in backends:
                print("starting PostgreSQL", flush=True)
                bench.postgres = servers.pg.start(durable=True)
            for name in args.sections.split(","):
                per_backend, section = SECTIONS[name]
                before = set(bench.report.tables)
                print(f"== {name}", flush=True)
                if per_backend:
                    for backend in backends:
                        section(bench, backend)
                else:
                    section(bench)
                for title, table in bench.report.tables.items():
                    if title not in before:
                        print(text_table(table), "", sep="\n", flush=True)
            text = document(bench, started, time.monotonic() - clock, argv)
        finally:
            if bench.postgres is not None:
                bench.postgres.stop()
    if not args.no_write:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
