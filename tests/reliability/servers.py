"""`admission serve` as real processes on loopback ports, to be raced, killed and restarted."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

from tests.live import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The `admission` console script's entry point, run by this interpreter: the same command,
# whatever the state of the installed script.
ADMISSION = [sys.executable, "-c", "from app.cli import main; main()"]
START_TIMEOUT = 60.0


def admission_env(
    database_url: str, storage_dir: Path, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of an `admission` process on this database and document store
    (`extra`: more settings, e.g. an S3 store's)."""
    path = os.environ.get("PYTHONPATH")
    return {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT) + (os.pathsep + path if path else ""),
        "DATABASE_URL": database_url,
        "STORAGE_DIR": str(storage_dir),
        "OVERDUE_SWEEP_SECONDS": "0",
        "WEBHOOK_DELIVERY_IN_SERVE": "false",
        # A killed attempt's Idempotency-Key is free again soon after the restart.
        "IDEMPOTENCY_LEASE_SECONDS": "3",
        **(extra or {}),
    }


class Server:
    """One `admission serve` process, in its own process group, logging to a file."""

    def __init__(
        self,
        database_url: str,
        storage_dir: Path,
        workdir: Path,
        name: str,
        env: dict[str, str] | None = None,
    ) -> None:
        self.env = admission_env(database_url, storage_dir, env)
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> None:
        """Start the process without waiting for it to answer (see `wait_ready`)."""
        assert self.process is None or self.process.poll() is not None
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [*ADMISSION, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}):\n{self.tail()}")
            with suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer within {timeout} s:\n{self.tail()}")

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown, no flush, no goodbye."""
        assert self.process is not None
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


@contextmanager
def serving(
    database_url: str, storage_dir: Path, workdir: Path, count: int = 1
) -> Iterator[list[Server]]:
    """`count` servers on one database and store, started together; stopped on exit."""
    servers = [Server(database_url, storage_dir, workdir, f"server-{i}") for i in range(count)]
    try:
        for server in servers:
            server.launch()
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()
