"""The `admission` console script, run as a user would: a subprocess with its own database."""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app

ADMISSION = shutil.which("admission") or str(Path(sys.executable).with_name("admission"))


class Cli:
    """Runs `admission` with DATABASE_URL and STORAGE_DIR pointing into one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.settings = Settings(
            database_url=f"sqlite:///{root / 'x.db'}", storage_dir=root / "docs"
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "DATABASE_URL": self.settings.database_url,
            "STORAGE_DIR": str(self.settings.storage_dir),
        }
        return subprocess.run(
            [ADMISSION, *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def ok(self, *args: str) -> list[str]:
        """Run a command that must succeed; its stdout lines."""
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    @contextmanager
    def app(self) -> Iterator[TestClient]:
        """The HTTP API over the same database and storage."""
        with TestClient(create_app(self.settings)) as client:
            yield client
