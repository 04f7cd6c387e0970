"""The processes a benchmark talks to: the minimal app, `admission serve`, `admission` commands,
and a throw-away PostgreSQL server (tests/pg.py's)."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests import pg
from tests.live import free_port

ROOT = Path(__file__).resolve().parents[1]
# The `admission` console script's entry point, run by this interpreter.
ADMISSION = [sys.executable, "-c", "from app.cli import main; main()"]


def admission_env(database_url: str, storage_dir: Path) -> dict[str, str]:
    """The environment of an `admission` process on this database and document store."""
    path = os.environ.get("PYTHONPATH")
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else ""),
        "DATABASE_URL": database_url,
        "STORAGE_DIR": str(storage_dir),
        # No background loops competing with the load.
        "OVERDUE_SWEEP_SECONDS": "0",
        "WEBHOOK_DELIVERY_IN_SERVE": "false",
    }


@dataclass
class Process:
    """A server process in its own process group, logging to a file."""

    argv: list[str]
    env: dict[str, str]
    log_path: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/healthz", timeout: float = 90.0) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.argv} exited:\n{self.tail()}")
            with suppress(httpx.HTTPError):
                if httpx.get(self.url + ready_path, timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.argv} did not answer within {timeout} s:\n{self.tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)

    def rss_mb(self) -> float:
        """Resident memory of the process and its children (uvicorn's workers), in MB."""
        assert self.process is not None
        return sum(_rss_kb(pid) for pid in _tree(self.process.pid)) / 1024

    def tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _tree(pid: int) -> list[int]:
    pids = [pid]
    with suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            children = (task / "children").read_text().split()
            for child in children:
                pids.extend(_tree(int(child)))
    return pids


def _rss_kb(pid: int) -> int:
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@contextmanager
def running(process: Process) -> Iterator[Process]:
    try:
        process.start()
        yield process
    finally:
        process.stop()


def minimal_app(workdir: Path) -> Process:
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.minimal_app:app"]
    argv += [
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return Process(argv, env, workdir / "minimal.log", port)


def serve_help() -> str:
    return subprocess.run([*ADMISSION, "serve", "--help"], capture_output=True, text=True).stdout


def admission_server(
    database_url: str, storage_dir: Path, workdir: Path, workers: int = 1
) -> Process:
    port = free_port()
    argv = [*ADMISSION, "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        argv += ["--workers", str(workers)]
    env = admission_env(database_url, storage_dir)
    return Process(argv, env, workdir / f"serve-{port}.log", port)


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float


def admission(database_url: str, storage_dir: Path, *args: str) -> Finished:
    """Run one `admission` command to its end: its output, wall time and peak resident memory
    (its own, from wait4)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [*ADMISSION, *args],
            env=admission_env(database_url, storage_dir),
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Finished(
            process.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            seconds,
            usage.ru_maxrss / 1024,
        )


@dataclass
class Backend:
    name: str
    url: str


@contextmanager
def postgres() -> Iterator[pg.PostgresServer]:
    """A throw-away PostgreSQL server with fsync on (as in production); its databases are
    made with `create_database`."""
    server = pg.start(durable=True)
    try:
        yield server
    finally:
        server.stop()


def create_database(server: pg.PostgresServer, name: str) -> str:
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.url(name)
