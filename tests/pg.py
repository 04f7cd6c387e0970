"""A throw-away PostgreSQL server for the test run: initdb in a temp dir, loopback only."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class PostgresServer:
    data_dir: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        _as_postgres(["pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def _as_postgres(argv: list[str]) -> subprocess.CompletedProcess[str]:
    # PostgreSQL refuses to run as root; switch to its own user when we are root.
    if os.geteuid() == 0:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    return subprocess.run(argv, check=True, capture_output=True, text=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(*, durable: bool = False) -> PostgresServer:
    """A server for the tests (no fsync: nothing outlives them); `durable` keeps PostgreSQL's
    defaults for what a commit costs (fsync, synchronous commit), as the benchmarks want."""
    root = Path(tempfile.mkdtemp(prefix="admission-pg-"))
    data_dir = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    os.chmod(root, 0o755)
    _as_postgres(
        ["initdb", "-D", str(data_dir), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]
    )
    port = _free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c max_connections=200"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    _as_postgres(
        ["pg_ctl", "-D", str(data_dir), "-o", options, "-l", str(root / "log"), "-w", "start"]
    )
    server = PostgresServer(data_dir, port)
    _wait_ready(port)
    return server


def _wait_ready(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"PostgreSQL did not start on port {port}")


def main(argv: list[str]) -> int:
    """Run a command with a throw-away server: `python -m tests.pg alembic upgrade head`.

    The command sees DATABASE_URL and ADMISSION_TEST_POSTGRES_URL pointing at the server.
    """
    import psycopg

    server = start()
    try:
        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE admission")
        env = {**os.environ, "DATABASE_URL": server.url("admission")}
        env["ADMISSION_TEST_POSTGRES_URL"] = env["DATABASE_URL"]
        return subprocess.run(argv, env=env).returncode
    finally:
        server.stop()


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
