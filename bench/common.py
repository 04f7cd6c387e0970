"""What every section is handed: the options, a scratch directory, the report to fill."""

from dataclasses import dataclass, field
from pathlib import Path

from bench.report import Report
from tests.pg import PostgresServer


@dataclass
class Options:
    runs: int = 3
    duration: float = 10.0
    scales: list[int] = field(default_factory=lambda: [1_000, 100_000])
    bulk_sizes: list[int] = field(default_factory=lambda: [10_000, 100_000])
    clients: int = 16


@dataclass
class Bench:
    options: Options
    workdir: Path
    report: Report
    postgres: PostgresServer | None = None
    databases: int = 0

    def database(self, backend: str, label: str) -> tuple[str, Path]:
        """A new, empty database of `backend` and its document store."""
        self.databases += 1
        name = f"{label}_{self.databases}"
        storage = self.workdir / name / "documents"
        storage.mkdir(parents=True)
        if backend == "sqlite":
            return f"sqlite:///{self.workdir / name / 'admission.db'}", storage
        from bench.servers import create_database

        assert self.postgres is not None
        return create_database(self.postgres, name), storage


def fmt_ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
