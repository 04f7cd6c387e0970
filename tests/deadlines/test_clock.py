"""Clocks through the API: due dates, the supplement pause, the one extension, overdue."""

from datetime import UTC, datetime
from typing import Any

import pytest

from app.context import AppContext
from app.deadlines.sweep import sweep
from tests.factories import Api, Clock, error_details

# Monday 2 March 2026, 09:00 in Vietnam. March 2026 has no public holiday.
MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock(ctx: AppContext) -> Clock:
    ticking = Clock(MONDAY)
    ctx.clock = ticking
    return ticking


def last(api: Api, case_id: str, action: str) -> dict[str, Any]:
    return next(e for e in reversed(api.history(case_id)) if e["action"] == action)


class TestDueDates:
    def test_accepting_sets_the_council_review_deadline_in_working_days(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_council_review()
        # 20 working days after Mon 2/3: 3–6/3 (4), 9–13 (9), 16–20 (14), 23–27 (19), Mon 30/3.
        assert case["due_at"] == "2026-03-30"
        assert case["overdue"] is False
        assert case["overdue_days"] == 0
        assert case["clock"] == {
            "paused": False,
            "remaining_working_days": None,
            "original_due_at": None,
            "extended_at": None,
            "calendar_warning": None,
        }
        assert last(api, case["id"], "accept")["fields"]["due_at"] == "2026-03-30"

    def test_a_deadline_past_the_calendar_s_last_year_is_flagged(
        self, api: Api, ctx: AppContext
    ) -> None:
        ctx.clock = Clock(datetime(2027, 12, 20, 2, 0, tzinfo=UTC))
        case = api.case_in_council_review()
        assert case["due_at"].startswith("2028-")
        assert "2023–2027" in case["clock"]["calendar_warning"]


class TestSupplementPause:
    def test_the_clock_stops_on_a_supplement_request_and_resumes_with_the_days_left(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_council_review()  # due Mon 30/3
        clock.advance(days=7)  # Mon 9/3: 15 working days left (10–13, 16–20, 23–27, 30/3)
        case = api.advance(case["id"], "request_supplement", "council", reason="Thiếu hồ sơ")

        assert case["due_at"] is None
        assert case["overdue"] is False
        assert case["clock"]["paused"] is True
        assert case["clock"]["remaining_working_days"] == 15
        pause = last(api, case["id"], "request_supplement")["fields"]["clock"]
        assert pause == {
            "paused": True,
            "due_at_before": "2026-03-30",
            "remaining_working_days": 15,
        }

        clock.advance(days=14)  # Mon 23/3
        assert api.upload(case["id"], "site_documents").status_code == 201
        case = api.advance(case["id"], "resubmit", "applicant")

        # 15 working days after Mon 23/3: 24–27 (4), 30/3–3/4 (9), 6–10/4 (14), Mon 13/4.
        assert case["state"] == "council_review"
        assert case["due_at"] == "2026-04-13"
        assert case["clock"]["paused"] is False
        resume = last(api, case["id"], "resubmit")["fields"]
        assert resume["clock"] == {
            "resumed": True,
            "remaining_working_days": 15,
            "due_at": "2026-04-13",
        }
        assert resume["due_at"] == "2026-04-13"

    def test_a_case_late_when_paused_is_still_late_by_as_much_when_resumed(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_council_review()  # due Mon 30/3
        clock.advance(days=30)  # Wed 1/4: two working days late (31/3, 1/4)
        assert api.read(case["id"])["overdue_working_days"] == 2
        case = api.advance(case["id"], "request_supplement", "council", reason="Thiếu hồ sơ")
        assert case["clock"]["remaining_working_days"] == -2
        clock.advance(days=7)  # Wed 8/4
        case = api.advance(case["id"], "resubmit", "applicant")
        # Two working days before Wed 8/4: Tue 7/4 and Mon 6/4 -> due Mon 6/4.
        assert case["due_at"] == "2026-04-06"
        assert case["overdue"] is True
        assert case["overdue_working_days"] == 2


class TestExtension:
    def test_the_holder_extends_once_with_a_reason_and_the_original_date_stays_visible(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_council_review()  # due Mon 30/3
        case = api.advance(
            case["id"],
            "extend_deadline",
            "council",
            reason="Chờ kết quả khảo sát thực tế",
            new_due_date="2026-04-10",
        )
        assert case["state"] == "council_review"
        assert case["due_at"] == "2026-04-10"
        assert case["clock"]["original_due_at"] == "2026-03-30"
        assert case["clock"]["extended_at"] is not None
        entry = last(api, case["id"], "extend_deadline")
        assert entry["reason"] == "Chờ kết quả khảo sát thực tế"
        assert entry["actor"] == {"org": "hdqlc", "role": "council", "user": None}
        assert entry["fields"]["original_due_at"] == "2026-03-30"
        assert entry["fields"]["new_due_date"] == "2026-04-10"
        assert entry["fields"]["extension_working_days"] == 9
        assert api.verify(case["id"])["valid"] is True
        events = [e for e in api.events(case["id"]) if e["type"] == "case.transitioned"]
        assert events[-1]["data"]["action"] == "extend_deadline"

    def test_a_second_extension_is_refused_naming_the_first(self, api: Api, clock: Clock) -> None:
        case = api.case_in_council_review()
        api.advance(
            case["id"], "extend_deadline", "council", reason="Lần 1", new_due_date="2026-04-10"
        )
        first = last(api, case["id"], "extend_deadline")
        before = api.snapshot(case["id"])

        response = api.fire(
            case["id"], "extend_deadline", "council", reason="Lần 2", new_due_date="2026-04-20"
        )

        missing = error_details(response, 409, "requirements_missing")["missing"]
        assert [(m["kind"], m["name"]) for m in missing] == [("extension", "extend_deadline")]
        assert f"#{first['seq']}" in missing[0]["message"]
        assert "2026-04-10" in missing[0]["message"]
        assert "Lần 1" in missing[0]["message"]
        assert api.snapshot(case["id"]) == before
        allowed = {a["action"]: a for a in api.read(case["id"])["allowed_actions"]}
        assert allowed["extend_deadline"]["missing"][0]["kind"] == "extension"

    def test_the_extension_stays_used_across_a_supplement_pause(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_council_review()  # due Mon 30/3
        api.advance(
            case["id"], "extend_deadline", "council", reason="Lần 1", new_due_date="2026-04-06"
        )
        api.advance(case["id"], "request_supplement", "council", reason="Thiếu hồ sơ")
        case = api.advance(case["id"], "resubmit", "applicant")
        # Resumed the same day: both dates come back as they were.
        assert case["due_at"] == "2026-04-06"
        assert case["clock"]["original_due_at"] == "2026-03-30"
        response = api.fire(
            case["id"], "extend_deadline", "council", reason="Lần 2", new_due_date="2026-04-20"
        )
        error_details(response, 409, "requirements_missing")

    def test_a_new_state_gives_a_new_extension(self, api: Api, clock: Clock) -> None:
        case = api.case_in_council_review()
        api.advance(
            case["id"], "extend_deadline", "council", reason="Lần 1", new_due_date="2026-04-06"
        )
        assert api.upload(case["id"], "council_proposal", "council").status_code == 201
        case = api.advance(case["id"], "propose_to_ministry", "council")
        assert case["clock"]["original_due_at"] is None
        case = api.advance(
            case["id"], "extend_deadline", "ministry", reason="Lần 1", new_due_date="2026-03-20"
        )
        assert case["due_at"] == "2026-03-20"

    @pytest.mark.parametrize(
        ("new_due_date", "problem"),
        [
            ("2026-04-04", "not a working day"),  # a Saturday
            ("2026-03-27", "not after the current due date"),
            ("2026-03-30", "not after the current due date"),
        ],
    )
    def test_a_bad_new_date_is_refused_and_changes_nothing(
        self, api: Api, clock: Clock, new_due_date: str, problem: str
    ) -> None:
        case = api.case_in_council_review()
        before = api.snapshot(case["id"])
        response = api.fire(
            case["id"], "extend_deadline", "council", reason="x", new_due_date=new_due_date
        )
        assert error_details(response, 409, "value_conflict") == {"new_due_date": problem}
        assert api.snapshot(case["id"]) == before

    def test_an_extension_needs_a_reason_and_a_date(self, api: Api, clock: Clock) -> None:
        case = api.case_in_council_review()
        response = api.fire(case["id"], "extend_deadline", "council")
        missing = error_details(response, 409, "requirements_missing")["missing"]
        assert {m["name"] for m in missing} == {"reason", "new_due_date"}

    def test_only_the_role_holding_the_dossier_extends(self, api: Api, clock: Clock) -> None:
        case = api.case_in_council_review()
        response = api.fire(
            case["id"], "extend_deadline", "ministry", reason="x", new_due_date="2026-04-06"
        )
        error_details(response, 403, "forbidden")
        response = api.fire(
            case["id"], "extend_deadline", "applicant", reason="x", new_due_date="2026-04-06"
        )
        error_details(response, 403, "forbidden")


class TestOverdue:
    def test_a_late_case_is_overdue_by_how_much_in_reads_lists_filters_and_the_pipeline(
        self, api: Api, clock: Clock
    ) -> None:
        late = api.case_in_council_review()  # due Mon 30/3
        on_time = api.create_case(applicant_name="Khu CNTT tập trung Cần Thơ")
        clock.advance(days=31)  # Thu 2/4: 3 calendar days, 3 working days late

        case = api.read(late["id"])
        assert (case["overdue"], case["overdue_days"], case["overdue_working_days"]) == (
            True,
            3,
            3,
        )
        items = api.list_cases(overdue="true").json()["items"]
        assert [(c["id"], c["overdue_days"]) for c in items] == [(late["id"], 3)]
        items = api.list_cases(overdue="false").json()["items"]
        assert [c["id"] for c in items] == [on_time["id"]]
        pipeline = api.pipeline().json()
        row = next(c for c in pipeline["cases"] if c["id"] == late["id"])
        assert (row["overdue"], row["overdue_days"]) == (True, 3)
        assert {s["state"]: s["overdue"] for s in pipeline["states"]}["council_review"] == 1

    def test_a_consultation_past_its_own_deadline_is_overdue(self, api: Api, clock: Clock) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        consultations = api.consultations(case["id"])
        # 10 working days after Mon 2/3 (from the workflow file) -> Mon 16/3.
        assert {c["due_at"] for c in consultations} == {"2026-03-16"}
        assert api.upload(case["id"], "ministry_opinion", "mpi").status_code == 201
        answered = next(c for c in consultations if c["ministry"] == "mpi")
        assert api.answer(case["id"], answered["id"], "mpi").status_code == 200
        clock.advance(days=15)  # Tue 17/3
        by_ministry = {c["ministry"]: c for c in api.consultations(case["id"])}
        assert (by_ministry["mof"]["overdue"], by_ministry["mof"]["overdue_days"]) == (True, 1)
        assert (by_ministry["mpi"]["overdue"], by_ministry["mpi"]["overdue_days"]) == (False, 0)


def overdue_events(api: Api, case_id: str) -> list[dict[str, Any]]:
    return [e for e in api.events(case_id) if e["type"] == "case.overdue"]


class TestSweep:
    def test_each_overdue_case_and_consultation_is_announced_once(
        self, api: Api, ctx: AppContext, clock: Clock
    ) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        assert sweep(ctx).cases == 0
        clock.advance(days=20)  # Sun 22/3: the case and both consultations (due 16/3) are late

        first = sweep(ctx)
        again = sweep(ctx)

        assert (first.cases, first.consultations) == (1, 2)
        assert (again.cases, again.consultations) == (0, 0)
        events = overdue_events(api, case["id"])
        assert sorted(e["data"]["subject"] for e in events) == [
            "case",
            "consultation",
            "consultation",
        ]
        about_case = next(e for e in events if e["data"]["subject"] == "case")
        assert about_case["data"]["due_at"] == "2026-03-16"
        assert about_case["data"]["overdue_days"] == 6
        assert about_case["data"]["overdue_working_days"] == 4
        assert {e["data"].get("ministry") for e in events} == {None, "mpi", "mof"}

    def test_concurrent_sweepers_announce_each_once(
        self, api: Api, ctx: AppContext, clock: Clock
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        cases = [api.case_in_council_review()["id"] for _ in range(3)]
        clock.advance(days=40)
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda _: sweep(ctx), range(4)))
        assert sum(r.cases for r in results) == 3
        for case_id in cases:
            assert len(overdue_events(api, case_id)) == 1

    def test_a_new_clock_can_be_announced_again_an_extended_one_too(
        self, api: Api, ctx: AppContext, clock: Clock
    ) -> None:
        case = api.case_in_council_review()  # due Mon 30/3
        clock.advance(days=31)
        assert sweep(ctx).cases == 1
        api.advance(case["id"], "extend_deadline", "council", reason="x", new_due_date="2026-04-06")
        assert sweep(ctx).cases == 0
        clock.advance(days=7)
        assert sweep(ctx).cases == 1
        assert [e["data"]["due_at"] for e in overdue_events(api, case["id"])] == [
            "2026-03-30",
            "2026-04-06",
        ]

    def test_a_paused_case_is_not_overdue(self, api: Api, ctx: AppContext, clock: Clock) -> None:
        case = api.case_awaiting_supplement("council")
        clock.advance(days=60)
        assert api.read(case["id"])["overdue"] is False
        assert sweep(ctx).cases == 0
