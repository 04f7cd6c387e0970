"""The clock of a case's state visit: start, pause for a supplement, resume, one extension.

A state with `deadline_working_days` starts a clock when the case enters it (`due_at`).
A supplement request stops it, keeping the working days that were left; resubmitting
starts it again with exactly those days. One extension per visit moves the due date
later and keeps the original one. Each change returns what the history entry records.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm.attributes import flag_modified

from app.calendar.working import WorkingCalendar
from app.cases.models import Case
from app.core.errors import ActionNotAllowedNow, ValueConflict


@dataclass(frozen=True)
class ClockState:
    """The clock columns of a case, read before a transition changes them."""

    due_at: date | None
    original_due_at: date | None
    extended_at: datetime | None
    remaining_days: int | None
    original_remaining_days: int | None
    overdue_notified_at: datetime | None

    @classmethod
    def of(cls, case: Case) -> "ClockState":
        return cls(
            due_at=case.due_at,
            original_due_at=case.original_due_at,
            extended_at=case.extended_at,
            remaining_days=case.clock_remaining_days,
            original_remaining_days=case.clock_original_remaining_days,
            overdue_notified_at=case.overdue_notified_at,
        )


def _set_notified(case: Case, value: datetime | None) -> None:
    """Always written, even when unchanged in this session: the sweep may have set it since the
    case was read (its UPDATE does not bump the version), and a new clock must clear it."""
    case.overdue_notified_at = value
    flag_modified(case, "overdue_notified_at")


def start(case: Case, days: int | None, today: date, calendar: WorkingCalendar) -> None:
    """A fresh clock for a new state visit (none when the state has no deadline)."""
    case.due_at = calendar.add_working_days(today, days) if days else None
    case.original_due_at = None
    case.extended_at = None
    case.clock_remaining_days = None
    case.clock_original_remaining_days = None
    _set_notified(case, None)


def pause(case: Case, before: ClockState, today: date, calendar: WorkingCalendar) -> dict[str, Any]:
    """Stop the clock the case had before it entered the supplement state."""
    if before.due_at is None:
        return {"paused": False}
    remaining = calendar.working_days_between(today, before.due_at)
    case.due_at = None
    case.clock_remaining_days = remaining
    case.original_due_at = None
    case.clock_original_remaining_days = (
        calendar.working_days_between(today, before.original_due_at)
        if before.original_due_at
        else None
    )
    # The extension belongs to the clock, not to the visit's calendar dates: it stays used.
    case.extended_at = before.extended_at
    _set_notified(case, before.overdue_notified_at)
    return {
        "paused": True,
        "due_at_before": before.due_at.isoformat(),
        "remaining_working_days": remaining,
    }


def resume(
    case: Case, before: ClockState, today: date, calendar: WorkingCalendar
) -> dict[str, Any]:
    """Start the stopped clock again with the working days it had left."""
    if before.remaining_days is None:
        return {"resumed": False}
    remaining = before.remaining_days
    case.due_at = calendar.add_working_days(today, remaining)
    case.original_due_at = (
        calendar.add_working_days(today, before.original_remaining_days)
        if before.original_remaining_days is not None
        else None
    )
    case.extended_at = before.extended_at
    case.clock_remaining_days = None
    case.clock_original_remaining_days = None
    # Still late on resuming: the sweep has announced it already (if it had); else it may again.
    _set_notified(case, before.overdue_notified_at if remaining < 0 else None)
    return {
        "resumed": True,
        "remaining_working_days": remaining,
        "due_at": case.due_at.isoformat(),
    }


def extend(
    case: Case, new_due: date, now: datetime, today: date, calendar: WorkingCalendar
) -> dict[str, Any]:
    """Move the due date later, once; the caller has checked that the visit has not used it."""
    if case.due_at is None:
        raise ActionNotAllowedNow("the case has no running deadline to extend", {"due_at": None})
    if new_due <= case.due_at:
        raise ValueConflict(
            f"the new due date must be after the current one ({case.due_at.isoformat()})",
            {"new_due_date": "not after the current due date"},
        )
    if new_due <= today:
        raise ValueConflict(
            "the new due date must be in the future", {"new_due_date": "not in the future"}
        )
    if not calendar.is_working_day(new_due):
        raise ValueConflict(
            f"{new_due.isoformat()} is not a working day", {"new_due_date": "not a working day"}
        )
    original = case.due_at
    case.original_due_at = original
    case.due_at = new_due
    case.extended_at = now
    _set_notified(case, None)
    recorded: dict[str, Any] = {
        "original_due_at": original.isoformat(),
        "extension_working_days": calendar.working_days_between(original, new_due),
    }
    warning = calendar.warning_for(new_due)
    if warning:
        recorded["calendar_warning"] = warning
    return recorded


def reach(case: Case, day: date) -> bool:
    """Keep the running due date no earlier than `day`: a stage waiting on others (the
    consulted ministries) lasts as long as the last of them has. Not an extension: the visit's
    one extension stays unused. Whether the due date moved."""
    if case.due_at is None or day <= case.due_at:
        return False
    case.due_at = day
    _set_notified(case, None)
    return True


def overdue_days(due_at: date | None, today: date) -> int:
    """Calendar days past the due date (0 when not late)."""
    if due_at is None or due_at >= today:
        return 0
    return (today - due_at).days


def overdue_working_days(due_at: date | None, today: date, calendar: WorkingCalendar) -> int:
    """Working days past the due date, the due date itself not counted (0 when not late)."""
    if due_at is None or due_at >= today:
        return 0
    return calendar.working_days_between(due_at, today)
