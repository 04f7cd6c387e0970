"""Working-day arithmetic on the repository's calendar: weekends, Tết, swapped days."""

from datetime import date
from pathlib import Path

import pytest

from app.calendar.working import CalendarError, WorkingCalendar
from app.core.config import Settings


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar.from_file(Settings().calendar_file)


# (start, working days, expected). The start day never counts. Checked by hand:
ARITHMETIC = [
    # Fri 7/3/2025 + 1: Sat 8 and Sun 9 are the weekend -> Mon 10/3.
    (date(2025, 3, 7), 1, date(2025, 3, 10)),
    # Fri 7/3/2025 + 5: Mon 10, Tue 11, Wed 12, Thu 13, Fri 14.
    (date(2025, 3, 7), 5, date(2025, 3, 14)),
    # Tết 2025: Mon 27/1 to Sat 1/2 off, Sun 2/2 weekend -> Mon 3/2.
    (date(2025, 1, 24), 1, date(2025, 2, 3)),
    # Tết 2026: Mon 16/2 to Fri 20/2 off -> Mon 23/2.
    (date(2026, 2, 13), 1, date(2026, 2, 23)),
    # Tết 2024: Thu 8/2 to Wed 14/2 off; from Wed 7/2, +1 -> Thu 15/2.
    (date(2024, 2, 7), 1, date(2024, 2, 15)),
    # 30/4 2024: Sat 27, Sun 28, Mon 29/4 (compensatory day off, swapped for Sat 4/5),
    # Tue 30/4, Wed 1/5 -> Thu 2/5.
    (date(2024, 4, 26), 1, date(2024, 5, 2)),
    # ... + 3: Thu 2/5, Fri 3/5, then Saturday 4/5 is a make-up working day.
    (date(2024, 4, 26), 3, date(2024, 5, 4)),
    # ... + 4: Sun 5/5 is not worked -> Mon 6/5.
    (date(2024, 4, 26), 4, date(2024, 5, 6)),
    # Starting on a holiday (Tue 30/4/2024): Wed 1/5 off -> Thu 2/5.
    (date(2024, 4, 30), 1, date(2024, 5, 2)),
    # Sat 26/4/2025 is a make-up working day (for Fri 2/5): Fri 25/4 + 1 -> Sat 26/4.
    (date(2025, 4, 25), 1, date(2025, 4, 26)),
    # Mon 28/4/2025 + 2: Tue 29/4; Wed 30/4, Thu 1/5, Fri 2/5 (swapped) off; weekend -> Mon 5/5.
    (date(2025, 4, 28), 2, date(2025, 5, 5)),
    # 2/9 2026: Mon 31/8 (swapped for Sat 22/8), Tue 1/9, Wed 2/9 off -> Thu 3/9.
    (date(2026, 8, 28), 1, date(2026, 9, 3)),
    # Sat 22/8/2026 is worked: Fri 21/8 + 1 -> Sat 22/8.
    (date(2026, 8, 21), 1, date(2026, 8, 22)),
    # 2023: Hùng Kings' day Sat 29/4, Sun 30/4, Mon 1/5, compensatory Tue 2/5 and Wed 3/5
    # -> Thu 4/5.
    (date(2023, 4, 28), 1, date(2023, 5, 4)),
    # 2/9 2023 was a Saturday: Fri 1/9 off, compensatory Mon 4/9 -> Tue 5/9.
    (date(2023, 8, 31), 1, date(2023, 9, 5)),
    # Zero days is the start day itself.
    (date(2025, 3, 8), 0, date(2025, 3, 8)),
    # Counting back: Mon 6/5/2024 - 1 -> Sat 4/5 (worked); - 2 -> Fri 3/5.
    (date(2024, 5, 6), -1, date(2024, 5, 4)),
    (date(2024, 5, 6), -2, date(2024, 5, 3)),
    # Counting back over Tết 2026: Mon 23/2 - 1 -> Fri 13/2.
    (date(2026, 2, 23), -1, date(2026, 2, 13)),
]


class TestArithmetic:
    @pytest.mark.parametrize(("start", "days", "expected"), ARITHMETIC, ids=str)
    def test_adding_working_days_lands_on_the_date_checked_by_hand(
        self, calendar: WorkingCalendar, start: date, days: int, expected: date
    ) -> None:
        assert calendar.add_working_days(start, days) == expected

    @pytest.mark.parametrize(("start", "days", "expected"), ARITHMETIC, ids=str)
    def test_counting_the_working_days_between_gives_the_number_back(
        self, calendar: WorkingCalendar, start: date, days: int, expected: date
    ) -> None:
        assert calendar.working_days_between(start, expected) == days

    @pytest.mark.parametrize(
        ("day", "working"),
        [
            (date(2024, 5, 4), True),  # make-up Saturday
            (date(2025, 4, 26), True),  # make-up Saturday
            (date(2026, 8, 22), True),  # make-up Saturday
            (date(2024, 5, 11), False),  # an ordinary Saturday
            (date(2024, 4, 29), False),  # swapped day off
            (date(2025, 5, 2), False),  # swapped day off
            (date(2026, 8, 31), False),  # swapped day off
            (date(2025, 9, 1), False),  # the day beside National Day
            (date(2027, 2, 8), False),  # Tết 2027
            (date(2027, 4, 16), False),  # Hùng Kings' day 2027
            (date(2025, 3, 10), True),  # an ordinary Monday
        ],
    )
    def test_which_days_are_worked(
        self, calendar: WorkingCalendar, day: date, working: bool
    ) -> None:
        assert calendar.is_working_day(day) is working


class TestCoverage:
    def test_the_file_covers_2023_to_2027(self, calendar: WorkingCalendar) -> None:
        assert (calendar.first_year, calendar.last_year) == (2023, 2027)
        assert all(calendar.covers(date(year, 6, 1)) for year in range(2023, 2028))

    def test_a_date_past_the_last_covered_year_is_flagged(self, calendar: WorkingCalendar) -> None:
        assert calendar.warning_for(date(2027, 12, 31)) is None
        warning = calendar.warning_for(date(2028, 1, 4))
        assert warning is not None
        assert "2023–2027" in warning
        assert "calendars/vietnam.yaml" in warning

    def test_outside_the_covered_years_the_statutory_holidays_still_count(
        self, calendar: WorkingCalendar
    ) -> None:
        # 1/1/2028 is a Saturday (compensated on Mon 3/1 by the base): Fri 31/12/2027 + 1
        # -> Tue 4/1/2028.
        assert calendar.add_working_days(date(2027, 12, 31), 1) == date(2028, 1, 4)


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "calendar.yaml"
    path.write_text("covered: {first_year: 2024, last_year: 2025}\n" + body, encoding="utf-8")
    return path


class TestValidation:
    @pytest.mark.parametrize(
        ("body", "problem"),
        [
            ("days_off: [{date: 2026-01-05, name: x}]\n", "outside the covered years"),
            (
                "days_off: [{date: 2024-04-29, name: x}, {date: 2024-04-29, name: y}]\n",
                "listed twice",
            ),
            ("working_days: [{date: 2024-05-06, name: x}]\n", "is a weekday"),
            (
                "days_off: [{date: 2024-05-04, name: x}]\n"
                "working_days: [{date: 2024-05-04, name: y}]\n",
                "both a day off and a working day",
            ),
            ("working_days: [{date: 2024-02-10, name: x}]\n", "public holiday"),
            ("days_off: [{date: 2024-13-01, name: x}]\n", "month must be in 1..12"),
            ("holidays: []\n", "Extra inputs"),
        ],
    )
    def test_a_broken_file_is_refused_naming_the_problem(
        self, tmp_path: Path, body: str, problem: str
    ) -> None:
        with pytest.raises(CalendarError, match=problem):
            WorkingCalendar.from_file(write(tmp_path, body))

    def test_a_sound_file_loads(self, tmp_path: Path) -> None:
        body = "working_days: [{date: 2024-05-04, name: make-up}]\n"
        calendar = WorkingCalendar.from_file(write(tmp_path, body))
        assert calendar.is_working_day(date(2024, 5, 4))
