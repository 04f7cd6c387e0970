"""Turning case records into API schemas: summaries, clocks and case fields."""

from datetime import date

from app.access import CaseRecord, ListedCase
from app.calendar.working import WorkingCalendar
from app.cases.schemas import CaseSummary, ClockOut, WorkflowRef
from app.core.schemas import Localised
from app.deadlines import clock


def is_overdue(due_at: date | None, today: date) -> bool:
    return due_at is not None and due_at < today


def summary(
    record: ListedCase, today: date, calendar: WorkingCalendar | None = None
) -> CaseSummary:
    """The case as lists show it; without a calendar, `overdue_working_days` is left at 0.
    A case whose workflow version is not loaded shows its state's name as the label."""
    case = record.case
    state = record.workflow.definition.states.get(case.state) if record.workflow else None
    return CaseSummary(
        id=case.id,
        code=case.code,
        state=case.state,
        state_label=(
            Localised(vi=state.label.vi, en=state.label.en)
            if state
            else Localised(vi=case.state, en=case.state)
        ),
        portal_code=state.portal_code if state else None,
        version=case.version,
        workflow=WorkflowRef(key=case.workflow_key, version=case.workflow_version),
        applicant_org=record.applicant_slug,
        applicant_name=case.applicant_name,
        province=case.province,
        unit_kind=case.unit_kind,  # type: ignore[arg-type]
        due_at=case.due_at,
        overdue=is_overdue(case.due_at, today),
        overdue_days=clock.overdue_days(case.due_at, today),
        overdue_working_days=(
            clock.overdue_working_days(case.due_at, today, calendar) if calendar else 0
        ),
        created_at=case.created_at,
        updated_at=case.updated_at,
    )


def clock_of(record: CaseRecord, calendar: WorkingCalendar) -> ClockOut:
    case = record.case
    return ClockOut(
        paused=case.clock_remaining_days is not None,
        remaining_working_days=case.clock_remaining_days,
        original_due_at=case.original_due_at,
        extended_at=case.extended_at,
        calendar_warning=calendar.warning_for(case.due_at),
    )
