"""Working days in Vietnam: weekends and public holidays do not count.

The `holidays` package gives the statutory holidays; `calendars/vietnam.yaml` adds the days
the government swaps each year (compensatory days off, make-up working days) and says which
years are covered. The calendar is built once at start-up and kept on the `AppContext`.
"""

import logging
from datetime import date, timedelta
from pathlib import Path
from typing import Self

import holidays
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.core.errors import CalendarError

log = logging.getLogger("admission.deadlines")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Covered(_Strict):
    first_year: int = Field(ge=2000, le=2100)
    last_year: int = Field(ge=2000, le=2100)


class NamedDay(_Strict):
    date: date
    name: str = Field(min_length=1)


class CalendarFile(_Strict):
    covered: Covered
    days_off: tuple[NamedDay, ...] = ()
    working_days: tuple[NamedDay, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        first, last = self.covered.first_year, self.covered.last_year
        if first > last:
            raise ValueError(f"covered.first_year {first} is after covered.last_year {last}")
        for key in ("days_off", "working_days"):
            seen: set[date] = set()
            for day in getattr(self, key):
                if not first <= day.date.year <= last:
                    raise ValueError(f"{key}: {day.date} is outside the covered years")
                if day.date in seen:
                    raise ValueError(f"{key}: {day.date} is listed twice")
                seen.add(day.date)
        for day in self.working_days:
            if day.date.weekday() < 5:
                raise ValueError(f"working_days: {day.date} is a weekday, a working day already")
        both = {d.date for d in self.days_off} & {d.date for d in self.working_days}
        if both:
            raise ValueError(f"both a day off and a working day: {sorted(map(str, both))}")
        return self


class WorkingCalendar:
    """Which days are worked, and deadline arithmetic in working days."""

    def __init__(self, spec: CalendarFile) -> None:
        self.first_year = spec.covered.first_year
        self.last_year = spec.covered.last_year
        self._extra_off = {d.date for d in spec.days_off}
        self._worked = {d.date for d in spec.working_days}
        statutory = holidays.country_holidays(
            "VN", years=range(self.first_year, self.last_year + 1)
        )
        self._off = set(statutory) | self._extra_off
        self._statutory_by_year: dict[int, set[date]] = {}
        for day in self._worked:
            if day in statutory:
                raise CalendarError(f"working_days: {day} is a public holiday ({statutory[day]})")

    @classmethod
    def from_file(cls, path: Path) -> "WorkingCalendar":
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise CalendarError(f"{path}: cannot be read: {exc}") from exc
        try:
            spec = CalendarFile.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(file)"
            raise CalendarError(f"{path.name}: {where}: {first['msg']}") from exc
        return cls(spec)

    def covers(self, day: date) -> bool:
        return self.first_year <= day.year <= self.last_year

    def _is_off(self, day: date) -> bool:
        if self.covers(day):
            return day in self._off
        # Outside the file's years only the statutory holidays are known; callers warn.
        year = self._statutory_by_year.get(day.year)
        if year is None:
            year = set(holidays.country_holidays("VN", years=day.year))
            self._statutory_by_year[day.year] = year
        return day in year

    def is_working_day(self, day: date) -> bool:
        if day in self._worked:
            return True
        return day.weekday() < 5 and not self._is_off(day)

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (the start day itself is not counted).

        A negative `days` counts back: the working day that many working days before `start`.
        With 0 the date is `start` itself.
        """
        step = timedelta(days=1 if days >= 0 else -1)
        current, remaining = start, abs(days)
        while remaining > 0:
            current += step
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end`; negative when `end` is earlier.

        The inverse of `add_working_days` on working days:
        `working_days_between(d, add_working_days(d, n)) == n`.
        """
        if end == start:
            return 0
        sign = 1 if end > start else -1
        low, high = (start, end) if sign > 0 else (end, start)
        count = 0
        current = low
        while current < high:
            current += timedelta(days=1)
            if self.is_working_day(current if sign > 0 else current - timedelta(days=1)):
                count += 1
        return sign * count

    def warning_for(self, day: date | None) -> str | None:
        """A reader-facing warning when a date lies outside the years the calendar covers."""
        if day is None or self.covers(day):
            return None
        return (
            f"{day.isoformat()} lies outside the working-day calendar's years "
            f"({self.first_year}–{self.last_year}): only statutory holidays were counted, "
            "without the government's day swaps; update calendars/vietnam.yaml"
        )
