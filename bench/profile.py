"""Where a request's time goes: one `admission serve` under load, sampled by py-spy.

    python bench/profile.py [--backend sqlite|postgresql] [--request case|list|pipeline|healthz|
        transition] [--duration 10] [--top 30]

Starts the service on a fresh database with the small Chain, drives the chosen request at 16
clients (wrk for reads, the benchmark's async client for transitions) while `py-spy` samples the
server, and prints the functions with the most samples: on their own ("self") and with what they
call ("total"), as shares of all samples. `py-spy` is installed for this only
(`pip install py-spy`); it is not a dependency of the service.
"""

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import dataset, httpload, servers  # noqa: E402

READS = {
    "healthz": lambda case_id: "/healthz",
    "case": lambda case_id: f"/api/v1/cases/{case_id}",
    "list": lambda case_id: "/api/v1/cases?state=council_review&limit=50",
    "pipeline": lambda case_id: "/api/v1/pipeline",
}


@contextmanager
def database(backend: str, root: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{root / 'profile.db'}"
        return
    with servers.postgres() as server:
        yield servers.create_database(server, "profile")


def aggregate(raw: Path, top: int) -> str:
    """The py-spy `raw` (collapsed stacks) output, summed per function."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f and not f.startswith("process ")]
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    lines = [f"{samples} samples", "", "self %   function"]
    lines += [f"{100 * n / samples:6.1f}   {name}" for name, n in own.most_common(top)]
    lines += ["", "total %  function"]
    lines += [f"{100 * n / samples:6.1f}   {name}" for name, n in total.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--request", choices=(*READS, "transition"), default="case")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    if shutil.which("py-spy") is None and not (Path(sys.executable).parent / "py-spy").exists():
        sys.exit("py-spy is not installed: pip install py-spy")
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        with database(args.backend, root) as url:
            tokens = dataset.fresh(url, root / "documents")
            with servers.running(servers.admission_server(url, root / "documents", root)) as app:
                cases = dataset.in_council_review(app.url, tokens, 16, 4)
                assert app.process is not None
                raw = root / "profile.txt"
                sampler = subprocess.Popen(
                    [spy, "record", "-p", str(app.process.pid), "-f", "raw", "-o", str(raw)]
                    + ["-d", str(int(args.duration) + 2), "-r", "200", "--nonblocking"]
                    + ([] if os.environ.get("SPY_ALL") else ["--gil"]),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                auth = {"Authorization": f"Bearer {tokens['council']}"}
                if args.request == "transition":
                    # As the request table runs it: each site visit needs new minutes.
                    load = httpload.transitions(
                        app.url,
                        tokens["council"],
                        cases.in_review,
                        "record_site_visit",
                        args.duration,
                        upload="site_visit_minutes",
                    )
                    print(f"transition: {load.rate:,.0f}/s, p99 {load.p99_ms:,.1f} ms")
                else:
                    path = READS[args.request](cases.in_review[0])
                    load = httpload.wrk(app.url + path, args.duration, auth)
                    print(f"{args.request}: {load.rate:,.0f} req/s, p99 {load.p99_ms:,.1f} ms")
                sampler.wait()
                print(aggregate(raw, args.top))


if __name__ == "__main__":
    main()
