"""Each consulted ministry with its own deadline: set when the round opens, extended once by the
Ministry with a reason, and what became of each one recorded when the round is closed."""

from datetime import UTC, datetime
from typing import Any

import pytest

from app.context import AppContext
from tests.factories import Api, Clock, error_details

# Monday 2 March 2026, 09:00 in Hà Nội: ten working days later is Monday 16 March.
MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
DUE = "2026-03-16"
REASON = "Bộ cần thêm thời gian lấy ý kiến các đơn vị trực thuộc"


@pytest.fixture
def clock(ctx: AppContext) -> Clock:
    ctx.clock = Clock(MONDAY)
    return ctx.clock


def by_ministry(api: Api, case_id: str, who: str = "ministry") -> dict[str, dict[str, Any]]:
    return {c["ministry"]: c for c in api.consultations(case_id, who)}


def opened(api: Api, ministries: list[Any]) -> dict[str, Any]:
    case = api.case_in_ministry_appraisal()
    return api.advance(case["id"], "open_consultation", "ministry", ministries=ministries)


def answer_with_opinion(api: Api, case_id: str, who: str, verdict: str = "agree") -> None:
    assert api.upload(case_id, "ministry_opinion", who).status_code == 201
    consultation = by_ministry(api, case_id, who)[who]
    response = api.answer(case_id, consultation["id"], who, verdict)
    assert response.status_code == 200, response.text


INVALID = (422, "invalid")
CONFLICT = (409, "value_conflict")


class TestEachMinistryItsOwnDeadline:
    def test_open_consultation_gives_each_ministry_the_working_days_or_date_it_names(
        self, api: Api, clock: Clock
    ) -> None:
        case = opened(
            api,
            [
                "mpi",
                {"ministry": "mof", "working_days": 15},
            ],
        )

        due = {slug: c["due_at"] for slug, c in by_ministry(api, case["id"]).items()}
        # Fifteen working days after Monday 2 March: Monday 23 March.
        assert due == {"mpi": DUE, "mof": "2026-03-23"}
        # The stage is due when its last ministry is.
        assert case["due_at"] == "2026-03-23"
        entry = api.history(case["id"])[-1]
        assert entry["fields"]["ministries"] == [
            {"ministry": "mpi", "due_at": DUE, "working_days": 10},
            {"ministry": "mof", "due_at": "2026-03-23", "working_days": 15},
        ]

    def test_a_ministry_may_be_given_a_date_instead_of_working_days(
        self, api: Api, clock: Clock
    ) -> None:
        case = opened(api, [{"ministry": "mpi", "due_date": "2026-03-20"}, "mof"])
        due = {slug: c["due_at"] for slug, c in by_ministry(api, case["id"]).items()}
        assert due == {"mpi": "2026-03-20", "mof": DUE}

    @pytest.mark.parametrize(
        ("entry", "where", "usable", "refusal"),
        [
            pytest.param(
                {"ministry": "mof", "working_days": 15, "due_date": "2026-03-20"},
                "ministries",
                {"ministry": "mof", "working_days": 15},
                INVALID,
                id="both working days and a date",
            ),
            pytest.param(
                {"ministry": "mof", "working_days": 61},
                "ministries",
                {"ministry": "mof", "working_days": 60},
                INVALID,
                id="61 days",
            ),
            pytest.param(
                {"ministry": "mof", "working_days": 0},
                "ministries",
                {"ministry": "mof", "working_days": 1},
                INVALID,
                id="no days",
            ),
            pytest.param(
                {"ministry": "mof", "due_date": "2026-03-21"},
                "mof",
                {"ministry": "mof", "due_date": "2026-03-23"},
                CONFLICT,
                id="a Saturday",
            ),
            pytest.param(
                {"ministry": "mof", "due_date": "2026-03-02"},
                "mof",
                {"ministry": "mof", "due_date": "2026-03-03"},
                CONFLICT,
                id="today",
            ),
            pytest.param(
                {"ministry": "mof", "deadline": 5},
                "ministries",
                {"ministry": "mof"},
                INVALID,
                id="unknown key",
            ),
        ],
    )
    def test_a_deadline_that_cannot_be_used_is_refused_and_nothing_is_opened(
        self,
        api: Api,
        clock: Clock,
        entry: dict[str, Any],
        where: str,
        usable: dict[str, Any],
        refusal: tuple[int, str],
    ) -> None:
        case = api.case_in_ministry_appraisal()
        before = api.snapshot(case["id"])
        response = api.fire(
            case["id"], "open_consultation", "ministry", case["version"], ministries=["mpi", entry]
        )
        # Malformed by the OpenAPI document: 422; well formed but not a usable day: 409.
        details = error_details(response, *refusal)
        assert where in str(details), details
        assert api.snapshot(case["id"]) == before
        assert api.consultations(case["id"]) == []
        # The same ministry with a deadline that can be used is consulted.
        api.advance(case["id"], "open_consultation", "ministry", ministries=["mpi", usable])
        assert sorted(by_ministry(api, case["id"])) == ["mof", "mpi"]


class TestExtendingOneMinistrysDeadline:
    def test_the_ministry_gives_one_consulted_ministry_a_later_date_with_a_reason(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        mof = by_ministry(api, case["id"])["mof"]

        response = api.extend_consultation(
            case["id"], mof["id"], new_due_date="2026-03-20", reason=REASON
        )

        assert response.status_code == 200, response.text
        extended = response.json()
        assert extended["due_at"] == "2026-03-20"
        assert extended["original_due_at"] == DUE
        assert extended["extension_reason"] == REASON
        assert extended["extended_at"] is not None
        after = api.read(case["id"], "ministry")
        assert after["version"] == case["version"] + 1
        assert response.headers["ETag"] == f'"{after["version"]}"'
        assert after["due_at"] == "2026-03-20"
        assert by_ministry(api, case["id"])["mpi"]["due_at"] == DUE
        entry = api.history(case["id"])[-1]
        assert (entry["action"], entry["from_state"], entry["to_state"]) == (
            "extend_consultation",
            "consultation",
            "consultation",
        )
        assert (entry["actor"]["org"], entry["reason"]) == ("mic", REASON)
        assert entry["fields"]["ministry"] == "mof"
        assert entry["fields"]["original_due_at"] == DUE
        assert entry["fields"]["new_due_date"] == "2026-03-20"
        assert entry["fields"]["extension_working_days"] == 4
        assert api.verify(case["id"])["valid"] is True
        event, updated = api.events(case["id"])[-2:]
        assert event["type"] == "consultation.extended"
        assert event["data"]["ministry"] == "mof"
        assert event["data"]["due_at"] == "2026-03-20"
        assert updated["type"] == "case.updated"

    def test_a_second_extension_of_the_same_ministry_is_409_naming_the_first(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        mof = by_ministry(api, case["id"])["mof"]
        first = api.extend_consultation(
            case["id"], mof["id"], new_due_date="2026-03-20", reason=REASON
        )
        assert first.status_code == 200, first.text
        before = api.snapshot(case["id"])

        again = api.extend_consultation(
            case["id"], mof["id"], new_due_date="2026-03-27", reason="Thêm lần nữa"
        )

        details = error_details(again, 409, "requirements_missing")
        [missing] = details["missing"]
        assert (missing["kind"], missing["name"]) == ("extension", "mof")
        assert "from 2026-03-16 to 2026-03-20" in missing["message"]
        assert REASON in missing["message"]
        assert api.snapshot(case["id"]) == before
        # The other ministry still has its own one extension.
        mpi = by_ministry(api, case["id"])["mpi"]
        other = api.extend_consultation(
            case["id"], mpi["id"], new_due_date="2026-03-18", reason=REASON
        )
        assert other.status_code == 200, other.text

    @pytest.mark.parametrize(
        ("new_due_date", "problem"),
        [
            pytest.param("2026-03-21", "not a working day", id="a Saturday"),
            pytest.param(DUE, "not after the current due date", id="the same date"),
            pytest.param("2026-03-13", "not after the current due date", id="an earlier date"),
        ],
    )
    def test_a_day_off_or_a_date_not_later_is_a_409_value_conflict_and_changes_nothing(
        self, api: Api, clock: Clock, new_due_date: str, problem: str
    ) -> None:
        case = api.case_in_consultation(("mpi",))
        mpi = by_ministry(api, case["id"])["mpi"]
        before = api.snapshot(case["id"])

        response = api.extend_consultation(
            case["id"], mpi["id"], new_due_date=new_due_date, reason=REASON
        )

        assert error_details(response, 409, "value_conflict") == {"new_due_date": problem}
        assert api.snapshot(case["id"]) == before
        assert by_ministry(api, case["id"])["mpi"]["extended_at"] is None

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param({"new_due_date": "2026-03-20"}, id="no reason"),
            pytest.param({"new_due_date": "2026-03-20", "reason": "  "}, id="a blank reason"),
            pytest.param({"new_due_date": "2026-02-30", "reason": REASON}, id="no such date"),
        ],
    )
    def test_a_missing_reason_or_a_date_that_is_none_is_422(
        self, api: Api, clock: Clock, body: dict[str, Any]
    ) -> None:
        case = api.case_in_consultation(("mpi",))
        mpi = by_ministry(api, case["id"])["mpi"]
        before = api.snapshot(case["id"])
        error_details(api.extend_consultation(case["id"], mpi["id"], **body), 422, "invalid")
        assert api.snapshot(case["id"]) == before

    def test_if_match_is_required_and_a_stale_one_is_refused(self, api: Api, clock: Clock) -> None:
        case = api.case_in_consultation(("mpi",))
        mpi = by_ministry(api, case["id"])["mpi"]
        path = f"/api/v1/cases/{case['id']}/consultations/{mpi['id']}/extend"
        body = {"new_due_date": "2026-03-20", "reason": REASON}
        before = api.snapshot(case["id"])

        missing = api.client.post(path, json=body, headers=api.headers("ministry"))
        stale = api.extend_consultation(case["id"], mpi["id"], version=case["version"] - 1, **body)

        error_details(missing, 428, "precondition_required")
        error_details(stale, 412, "version_mismatch")
        assert api.snapshot(case["id"]) == before

    @pytest.mark.parametrize("who", ["council", "applicant", "government", "viewer", "mpi"])
    def test_only_the_ministry_extends(self, api: Api, clock: Clock, who: str) -> None:
        case = api.case_in_consultation(("mpi",))
        mpi = by_ministry(api, case["id"])["mpi"]
        response = api.extend_consultation(
            case["id"], mpi["id"], who, case["version"], new_due_date="2026-03-20", reason=REASON
        )
        error_details(response, 403, "forbidden")
        assert by_ministry(api, case["id"])["mpi"]["extended_at"] is None

    def test_another_consulted_ministry_is_told_no_such_consultation(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        mpi = by_ministry(api, case["id"])["mpi"]
        response = api.extend_consultation(
            case["id"], mpi["id"], "mof", case["version"], new_due_date="2026-03-20", reason="x"
        )
        error_details(response, 404, "not_found")
        assert by_ministry(api, case["id"])["mpi"]["extended_at"] is None
        # The consultation is there: the Ministry itself extends it.
        response = api.extend_consultation(
            case["id"], mpi["id"], new_due_date="2026-03-20", reason=REASON
        )
        assert response.status_code == 200, response.text

    def test_an_answered_or_closed_consultation_has_no_deadline_to_extend(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        answer_with_opinion(api, case["id"], "mpi")
        mpi = by_ministry(api, case["id"])["mpi"]
        answered = api.extend_consultation(
            case["id"], mpi["id"], new_due_date="2026-03-20", reason=REASON
        )
        error_details(answered, 409, "not_allowed_in_state")

        answer_with_opinion(api, case["id"], "mof")
        api.advance(case["id"], "close_consultation", "ministry")
        mof = by_ministry(api, case["id"])["mof"]
        closed = api.extend_consultation(
            case["id"], mof["id"], new_due_date="2026-03-20", reason=REASON
        )
        error_details(closed, 409, "not_allowed_in_state")

    def test_an_overdue_ministry_given_more_time_is_awaited_again(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        answer_with_opinion(api, case["id"], "mpi")
        clock.advance(days=15)  # Tuesday 17 March: mof is late, the round could be closed
        assert by_ministry(api, case["id"])["mof"]["overdue"] is True
        mof = by_ministry(api, case["id"])["mof"]

        extended = api.extend_consultation(
            case["id"], mof["id"], new_due_date="2026-03-24", reason=REASON
        )

        assert extended.status_code == 200, extended.text
        assert extended.json()["overdue"] is False
        response = api.fire(case["id"], "close_consultation", "ministry")
        details = error_details(response, 409, "requirements_missing")
        assert [m["name"] for m in details["missing"]] == ["mof"]

    def test_a_consulted_ministry_does_not_read_another_ministry_s_extension(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        mof = by_ministry(api, case["id"])["mof"]
        tag = api.pipeline("mpi").headers["etag"]
        extended = api.extend_consultation(
            case["id"], mof["id"], new_due_date="2026-03-20", reason=REASON
        )
        assert extended.status_code == 200, extended.text

        for who, sees in (("mpi", False), ("mof", True)):
            actions = [e["action"] for e in api.history(case["id"], who)]
            assert ("extend_consultation" in actions) is sees, who
            feed = api.events_page(who).json()["items"]
            assert any(e["type"] == "consultation.extended" for e in feed) is sees, who
            # The case's own due date moved: that much every reader is told, unnamed.
            assert feed[-1]["type"] == "case.updated", who
            assert feed[-1]["data"] == {"version": case["version"] + 1, "changed": ["due_at"]}
        assert api.read(case["id"], "mpi")["due_at"] == "2026-03-20"
        assert api.pipeline("mpi").headers["etag"] != tag


class TestClosingRecordsEachMinistrysOutcome:
    def test_closing_records_who_answered_and_who_was_overdue_without_answering(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        answer_with_opinion(api, case["id"], "mpi", "agree_with_conditions")
        clock.advance(days=15)  # Tuesday 17 March: mof's deadline passed a day ago

        api.advance(case["id"], "close_consultation", "ministry")

        entry = api.history(case["id"])[-1]
        outcomes = {e["ministry"]: e for e in entry["fields"]["closed_consultations"]}
        assert outcomes["mpi"]["outcome"] == "answered"
        assert outcomes["mpi"]["verdict"] == "agree_with_conditions"
        assert outcomes["mof"] == {
            "ministry": "mof",
            "outcome": "overdue_unanswered",
            "due_at": DUE,
            "overdue_days": 1,
        }
        listed = by_ministry(api, case["id"])
        assert (listed["mpi"]["outcome"], listed["mof"]["outcome"]) == (
            "answered",
            "overdue_unanswered",
        )
        assert api.consultations(case["id"], "mof")[0]["outcome"] == "overdue_unanswered"
