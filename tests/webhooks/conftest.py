"""The webhook tests' real parts: receivers on loopback ports, run as processes of their own,
and the `admission worker` command run as users run it."""

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from app.cli import main
from app.context import AppContext
from app.core.config import get_settings
from tests.commands import ADMISSION
from tests.factories import Api
from tests.live import free_port

RECEIVER = Path(__file__).with_name("receiver.py")
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Receiver:
    """`receiver.py` on one port; it can be killed and started again on the same port."""

    def __init__(self, root: Path, secrets: list[str], mode: str = "never") -> None:
        self.port = free_port()
        self.log = root / f"received-{self.port}.jsonl"
        self.secrets = secrets
        self.mode = mode
        self.process: subprocess.Popen[str] | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self, mode: str | None = None) -> "Receiver":
        self.mode = mode or self.mode
        argv = [sys.executable, str(RECEIVER), "--port", str(self.port), "--log", str(self.log)]
        for secret in self.secrets:
            argv += ["--secret", secret]
        self.process = subprocess.Popen(
            [*argv, "--mode", self.mode], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "ready"
        return self

    def kill(self) -> None:
        """SIGKILL: no goodbye, answers in flight are lost."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.process = None

    def records(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture
def receivers(tmp_path: Path) -> Iterator[list[Receiver]]:
    """Receivers the test starts, all killed at the end."""
    started: list[Receiver] = []
    yield started
    for receiver in started:
        receiver.kill()


def subscribe(api: Api, who: str, url: str, event_types: list[str] | None = None) -> dict[str, Any]:
    response = api.client.post(
        "/api/v1/webhooks",
        json={"url": url, "event_types": event_types or ["*"]},
        headers=api.headers(who),
    )
    assert response.status_code == 201, response.text
    return response.json()


def worker_env(ctx: AppContext, **settings: object) -> dict[str, str]:
    """The environment of an `admission` process on the test's database."""
    env = {
        **os.environ,
        "DATABASE_URL": ctx.settings.database_url,
        "STORAGE_DIR": str(ctx.settings.storage_dir),
        "WEBHOOK_ALLOW_PRIVATE_HOSTS": str(ctx.settings.webhook_allow_private_hosts),
        # The console script runs the code under test, whatever is installed.
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])
        ),
    }
    env.update({name.upper(): str(value) for name, value in settings.items()})
    return env


class Workers:
    """`admission worker` processes, stopped at the end of the test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.processes: list[subprocess.Popen[str]] = []

    def start(self, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
        """A long-running worker; its log lines go to a file (`log(i)`), not to a pipe that
        could fill up and stall it."""
        with self.log(len(self.processes)).open("w") as log:
            process = subprocess.Popen(
                [ADMISSION, "worker", *args], env=env, stdout=subprocess.PIPE, stderr=log, text=True
            )
        self.processes.append(process)
        return process

    def log(self, index: int) -> Path:
        return self.root / f"worker-{index}.log"

    def run(self, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ADMISSION, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(10)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    running = Workers(tmp_path)
    yield running
    running.stop_all()


def admission(ctx: AppContext, *args: str, env: dict[str, str] | None = None) -> Result:
    """An `admission` command in-process, on the test's database (and `env` besides)."""
    env = {
        **(env or {}),
        "DATABASE_URL": ctx.settings.database_url,
        "STORAGE_DIR": str(ctx.settings.storage_dir),
        "WEBHOOK_ALLOW_PRIVATE_HOSTS": str(ctx.settings.webhook_allow_private_hosts),
    }
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(main, list(args), env=env)
    finally:
        get_settings.cache_clear()
