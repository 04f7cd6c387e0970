import uuid
from datetime import date

from pydantic import BaseModel

from app.core.schemas import Localised


class StateCount(BaseModel):
    state: str
    label: Localised
    count: int
    overdue: int
    # Calendar days the cases now in this state have spent in it (median; null when empty).
    median_days_in_state: float | None = None


class PipelineCase(BaseModel):
    id: uuid.UUID
    code: str | None
    applicant_name: str
    province: str
    state: str
    due_at: date | None
    overdue: bool
    overdue_days: int = 0
    # Roles that act next in the case's state (empty when it is closed).
    waiting_for: list[str] = []


class PipelineOut(BaseModel):
    states: list[StateCount]
    # One page: overdue first, then by due date, then the cases without a running clock.
    cases: list[PipelineCase]
    next_cursor: str | None = None
