"""What every service needs from the running application, built once at start-up."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from app.calendar.working import WorkingCalendar
from app.core.config import Settings
from app.core.db import create_db_engine
from app.core.models import utcnow
from app.engine.loader import WorkflowRegistry
from app.storage.base import DocumentStore
from app.storage.factory import open_store


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    workflows: WorkflowRegistry
    store: DocumentStore
    calendar: WorkingCalendar
    # Replaceable so that tests can move time forward; production uses the wall clock.
    clock: Callable[[], datetime] = field(default=utcnow)

    @classmethod
    def from_settings(cls, settings: Settings, workflows: WorkflowRegistry) -> "AppContext":
        return cls(
            settings=settings,
            engine=create_db_engine(settings),
            workflows=workflows,
            store=open_store(settings),
            calendar=WorkingCalendar.from_file(settings.calendar_file),
        )

    def default_workflow(self) -> str | None:
        """The workflow key of a case created without naming one: `DEFAULT_WORKFLOW`, or the
        only key loaded; None when neither says."""
        named = self.settings.default_workflow
        if self.workflows.latest(named) is not None:
            return named
        keys = {w.key for w in self.workflows}
        return keys.pop() if len(keys) == 1 else None

    def now(self) -> datetime:
        return self.clock()

    @property
    def zone(self) -> ZoneInfo:
        """The one time zone of dates and times shown, deadlines and day boundaries."""
        return ZoneInfo(self.settings.timezone)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def today(self) -> date:
        return self.local_date(self.now())
