"""What every service needs from the running application, built once at start-up."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Engine

from app.calendar.working import WorkingCalendar, local_today
from app.core.config import Settings
from app.core.db import create_db_engine
from app.core.models import utcnow
from app.engine.loader import WorkflowRegistry
from app.storage.local import DocumentStore


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
    def from_settings(cls, settings: Settings) -> "AppContext":
        return cls(
            settings=settings,
            engine=create_db_engine(settings),
            workflows=WorkflowRegistry.from_directory(settings.workflows_dir),
            store=DocumentStore(settings.storage_dir),
            calendar=WorkingCalendar.from_file(settings.calendar_file),
        )

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return local_today(self.now())
