import uuid
from datetime import date

from pydantic import BaseModel

from app.core.schemas import Localised


class StateCount(BaseModel):
    # The workflow key the state belongs to: two workflows' states of one name are two rows.
    workflow: str
    state: str
    label: Localised
    count: int
    overdue: int
    # Calendar days the cases now in this state have spent in it (median; null when empty).
    median_days_in_state: float | None = None


class PipelineCase(BaseModel):
    id: uuid.UUID
    workflow: str = ""
    code: str | None
    applicant_name: str
    province: str
    state: str
    due_at: date | None
    overdue: bool
    overdue_days: int = 0
    # Roles that act next in the case's state (empty when it is closed).
    waiting_for: list[str] = []


class WorkflowGroup(BaseModel):
    key: str
    title: Localised


class PipelineOut(BaseModel):
    # The workflows whose cases are in scope (the default one when there are none), in the
    # order `states` lists their states.
    workflows: list[WorkflowGroup] = []
    states: list[StateCount]
    # One page: overdue first, then by due date, then the cases without a running clock.
    cases: list[PipelineCase]
    next_cursor: str | None = None
