"""Writing register files and running `admission import / export cases` in process."""

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from app.cases.models import Case
from app.cli import main
from app.context import AppContext
from app.core.config import get_settings
from app.core.db import unit_of_work
from app.events.models import Event
from app.history.models import AuditEntry
from tests.factories import Api, Clock

COLUMNS = [
    "code",
    "applicant_org",
    "applicant_name",
    "unit_kind",
    "area_m2",
    "address",
    "investor",
    "state",
    "state_since",
    "due_at",
    "workflow",
    "workflow_version",
]
# Monday 16 March 2026, 09:00 in Hà Nội.
NOW = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)


def row(**values: Any) -> dict[str, Any]:
    """A register row for the `hau-giang` applicant; empty cells unless given."""
    return {
        "applicant_org": "hau-giang",
        "applicant_name": "Khu Công nghệ số tỉnh Hậu Giang",
        "unit_kind": "digital_technology_zone",
        **values,
    }


def register(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=columns or COLUMNS, restval="", extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.fixture
def clock(ctx: AppContext) -> Clock:
    ctx.clock = Clock(NOW)
    return ctx.clock


@pytest.fixture
def write(tmp_path: Path) -> Any:
    """Writes a register file (UTF-8; a BOM with `bom=True`) and returns its path."""

    def _write(
        rows: list[dict[str, Any]], name: str = "register.csv", *, bom: bool = False, **kw: Any
    ) -> Path:
        path = tmp_path / name
        path.write_text(register(rows, **kw), encoding="utf-8-sig" if bom else "utf-8")
        return path

    return _write


class Admission:
    """`admission ...` run in process against the test's database."""

    def __init__(self, ctx: AppContext) -> None:
        self.env = {
            "DATABASE_URL": ctx.settings.database_url,
            "STORAGE_DIR": str(ctx.settings.storage_dir),
        }

    def run(self, *args: str) -> Result:
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(main, list(args), env=self.env)
        finally:
            get_settings.cache_clear()


@pytest.fixture
def admission(ctx: AppContext, api: Api) -> Admission:
    """The command line, over a database that holds the small Chain's organisations."""
    return Admission(ctx)


def counts(ctx: AppContext) -> dict[str, int]:
    with unit_of_work(ctx.engine, write=False) as session:
        return {
            model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Case, AuditEntry, Event)
        }
