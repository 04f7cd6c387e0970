"""The Ministry consults other ministries: opening, answering, closing, and who sees what."""

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from app.consultations.models import Consultation
from app.context import AppContext
from app.core.db import unit_of_work
from tests.factories import Api, Clock, error_details

# Monday 2 March 2026, 09:00 in Hà Nội: ten working days later is Monday 16 March.
MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
DUE = "2026-03-16"


@pytest.fixture
def clock(ctx: AppContext) -> Clock:
    ctx.clock = Clock(MONDAY)
    return ctx.clock


def consultation_rows(ctx: AppContext) -> int:
    with unit_of_work(ctx.engine, write=False) as session:
        return int(session.scalar(select(func.count()).select_from(Consultation)) or 0)


def mine(api: Api, case_id: str, who: str) -> dict[str, Any]:
    items = api.consultations(case_id, who)
    assert len(items) == 1, items
    return items[0]


def answer_with_opinion(api: Api, case_id: str, who: str, verdict: str = "agree") -> dict[str, Any]:
    uploaded = api.upload(case_id, "ministry_opinion", who)
    assert uploaded.status_code == 201, uploaded.text
    response = api.answer(case_id, mine(api, case_id, who)["id"], who, verdict, comment="Ý kiến")
    assert response.status_code == 200, response.text
    return response.json()


def missing_names(details: Any) -> set[str]:
    return {m["name"] for m in details["missing"] if m["kind"] == "consultation"}


class TestOpenConsultation:
    def test_one_consultation_per_ministry_is_opened_due_ten_working_days_ahead(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        assert case["state"] == "consultation"
        items = api.consultations(case["id"], "ministry")
        assert sorted(c["ministry"] for c in items) == ["mof", "mpi"]
        for c in items:
            assert c["due_at"] == DUE
            assert c["verdict"] is None
            assert c["answered_at"] is None
            assert c["overdue"] is False
        assert case["due_at"] == DUE

    def test_the_due_date_skips_the_weekend(self, api: Api, ctx: AppContext) -> None:
        # Thursday 5 March 2026: 10 working days later is Thursday 19 March.
        ctx.clock = Clock(datetime(2026, 3, 5, 2, 0, tzinfo=UTC))
        case = api.case_in_consultation(("mpi",))
        assert mine(api, case["id"], "ministry")["due_at"] == "2026-03-19"

    def test_the_opening_is_recorded_with_the_ministries_and_the_due_date(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        entry = api.history(case["id"])[-1]
        assert entry["action"] == "open_consultation"
        assert entry["to_state"] == "consultation"
        assert entry["fields"]["ministries"] == [
            {"ministry": "mpi", "due_at": DUE, "working_days": 10},
            {"ministry": "mof", "due_at": DUE, "working_days": 10},
        ]
        assert entry["fields"]["consultation_due_at"] == DUE

    @pytest.mark.parametrize(
        "ministries",
        [
            pytest.param(["mpi", "bo-khong-co"], id="unknown slug"),
            pytest.param(["hdqlc"], id="the council"),
            pytest.param(["hau-giang"], id="a province"),
            pytest.param(["vpcp"], id="the government office"),
            pytest.param(["mpi", "mpi"], id="duplicate"),
            pytest.param(["mic"], id="the ministry itself"),
        ],
    )
    def test_a_bad_list_of_ministries_is_a_409_value_conflict_and_changes_nothing(
        self, api: Api, ctx: AppContext, ministries: list[str]
    ) -> None:
        case = api.case_in_ministry_appraisal()
        before = api.snapshot(case["id"])
        response = api.fire(
            case["id"], "open_consultation", "ministry", case["version"], ministries=ministries
        )
        details = error_details(response, 409, "value_conflict")
        assert "ministries" in details
        assert api.snapshot(case["id"]) == before
        assert consultation_rows(ctx) == 0
        assert api.consultations(case["id"]) == []

    def test_no_ministries_at_all_is_a_missing_field(self, api: Api, ctx: AppContext) -> None:
        case = api.case_in_ministry_appraisal()
        before = api.snapshot(case["id"])
        response = api.fire(
            case["id"], "open_consultation", "ministry", case["version"], ministries=[]
        )
        details = error_details(response, 409, "requirements_missing")
        assert {
            "kind": "field",
            "name": "ministries",
            "label": "Các Bộ, ngành được hỏi ý kiến",
        } in details["missing"]
        assert api.snapshot(case["id"]) == before
        assert consultation_rows(ctx) == 0

    def test_only_the_ministry_opens_consultations(self, api: Api, ctx: AppContext) -> None:
        case = api.case_in_ministry_appraisal()
        response = api.fire(
            case["id"], "open_consultation", "council", case["version"], ministries=["mpi"]
        )
        error_details(response, 403, "forbidden")
        assert consultation_rows(ctx) == 0


class TestAnswer:
    def test_answering_before_uploading_the_opinion_is_409_and_changes_nothing(
        self, api: Api
    ) -> None:
        case = api.case_in_consultation(("mpi",))
        consultation = mine(api, case["id"], "mpi")
        before = api.snapshot(case["id"])
        response = api.answer(case["id"], consultation["id"], "mpi")
        details = error_details(response, 409, "not_allowed_in_state")
        assert details["missing"] == [
            {"kind": "document", "name": "ministry_opinion", "label": "Văn bản góp ý của Bộ, ngành"}
        ]
        assert api.snapshot(case["id"]) == before
        assert mine(api, case["id"], "mpi")["answered_at"] is None

    def test_another_ministrys_opinion_does_not_count(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        assert api.upload(case["id"], "ministry_opinion", "mof").status_code == 201
        response = api.answer(case["id"], mine(api, case["id"], "mpi")["id"], "mpi")
        error_details(response, 409, "not_allowed_in_state")

    def test_an_answer_records_the_verdict_comment_and_opinion(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_consultation(("mpi",))
        opinion = api.upload(case["id"], "ministry_opinion", "mpi").json()
        consultation = mine(api, case["id"], "mpi")
        response = api.answer(
            case["id"], consultation["id"], "mpi", "agree_with_conditions", comment="Cần bổ sung"
        )
        assert response.status_code == 200, response.text
        answered = response.json()
        assert answered["id"] == consultation["id"]
        assert answered["verdict"] == "agree_with_conditions"
        assert answered["comment"] == "Cần bổ sung"
        assert answered["opinion_document_id"] == opinion["id"]
        assert answered["answered_at"] is not None
        assert mine(api, case["id"], "ministry") == answered
        event = api.events(case["id"])[-1]
        assert event["type"] == "consultation.answered"
        assert event["data"]["ministry"] == "mpi"

    def test_a_ministry_cannot_answer_another_ministrys_consultation(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        theirs = mine(api, case["id"], "mpi")
        assert api.upload(case["id"], "ministry_opinion", "mof").status_code == 201
        before = api.snapshot(case["id"])
        error_details(api.answer(case["id"], theirs["id"], "mof"), 404, "not_found")
        assert api.snapshot(case["id"]) == before
        assert mine(api, case["id"], "mpi")["answered_at"] is None

    def test_a_ministry_cannot_answer_twice(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi",))
        first = answer_with_opinion(api, case["id"], "mpi", "agree")
        assert api.upload(case["id"], "ministry_opinion", "mpi").status_code == 201
        before = api.snapshot(case["id"])
        response = api.answer(case["id"], first["id"], "mpi", "disagree")
        error_details(response, 409, "not_allowed_in_state")
        assert api.snapshot(case["id"]) == before
        assert mine(api, case["id"], "ministry")["verdict"] == "agree"

    @pytest.mark.parametrize("who", ["ministry", "council", "applicant"])
    def test_only_the_consulted_ministry_answers(self, api: Api, who: str) -> None:
        case = api.case_in_consultation(("mpi",))
        consultation = mine(api, case["id"], "ministry")
        response = api.answer(case["id"], consultation["id"], who)
        assert response.status_code == 403, response.text

    def test_an_unknown_verdict_is_422(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi",))
        assert api.upload(case["id"], "ministry_opinion", "mpi").status_code == 201
        response = api.answer(case["id"], mine(api, case["id"], "mpi")["id"], "mpi", "maybe")
        error_details(response, 422, "invalid")
        assert mine(api, case["id"], "mpi")["answered_at"] is None

    def test_a_ministry_not_consulted_may_not_upload_an_opinion(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.case_in_consultation(("mpi",))
        error_details(api.upload(case["id"], "ministry_opinion", "mof"), 404, "not_found")


class TestCloseConsultation:
    def test_closing_while_ministries_have_not_answered_lists_them(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        before = api.snapshot(case["id"])
        response = api.fire(case["id"], "close_consultation", "ministry", case["version"])
        details = error_details(response, 409, "requirements_missing")
        assert missing_names(details) == {"mpi", "mof"}
        assert api.snapshot(case["id"]) == before

    def test_the_case_tells_the_ministry_who_is_still_awaited(self, api: Api, clock: Clock) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        answer_with_opinion(api, case["id"], "mpi")
        actions = api.read(case["id"], "ministry")["allowed_actions"]
        close = next(a for a in actions if a["action"] == "close_consultation")
        assert [m["name"] for m in close["missing"]] == ["mof"]

    def test_after_one_answer_only_the_silent_ministry_is_listed(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        answer_with_opinion(api, case["id"], "mpi")
        response = api.fire(case["id"], "close_consultation", "ministry")
        assert missing_names(error_details(response, 409, "requirements_missing")) == {"mof"}

    def test_closing_after_every_ministry_answered_returns_to_appraisal(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        answer_with_opinion(api, case["id"], "mpi", "agree")
        answer_with_opinion(api, case["id"], "mof", "disagree")
        closed = api.advance(case["id"], "close_consultation", "ministry")
        assert closed["state"] == "ministry_appraisal"
        items = api.consultations(case["id"], "ministry")
        assert all(c["closed_at"] is not None for c in items)

    def test_on_the_due_date_a_silent_ministry_is_still_awaited(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        answer_with_opinion(api, case["id"], "mpi")
        clock.advance(days=14)  # Monday 16 March, the due date itself
        response = api.fire(case["id"], "close_consultation", "ministry")
        assert missing_names(error_details(response, 409, "requirements_missing")) == {"mof"}

    def test_once_the_silent_ministrys_deadline_passed_closing_succeeds(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        answer_with_opinion(api, case["id"], "mpi")
        clock.advance(days=15)  # Tuesday 17 March: mof is late
        late = {c["ministry"]: c for c in api.consultations(case["id"], "ministry")}
        assert late["mof"]["overdue"] is True
        assert late["mpi"]["overdue"] is False
        closed = api.advance(case["id"], "close_consultation", "ministry")
        assert closed["state"] == "ministry_appraisal"

    def test_a_late_ministry_cannot_answer_once_the_consultation_is_closed(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        answer_with_opinion(api, case["id"], "mpi")
        consultation = mine(api, case["id"], "mof")
        clock.advance(days=15)
        api.advance(case["id"], "close_consultation", "ministry")
        response = api.answer(case["id"], consultation["id"], "mof")
        error_details(response, 409, "not_allowed_in_state")
        error_details(
            api.upload(case["id"], "ministry_opinion", "mof"), 409, "not_allowed_in_state"
        )

    def test_a_second_round_needs_a_fresh_opinion(self, api: Api, clock: Clock) -> None:
        case = api.case_in_consultation(("mpi",))
        answer_with_opinion(api, case["id"], "mpi")
        api.advance(case["id"], "close_consultation", "ministry")
        api.advance(case["id"], "open_consultation", "ministry", ministries=["mpi"])
        rounds = api.consultations(case["id"], "mpi")
        assert [c["round"] for c in rounds] == [1, 2]
        second = rounds[1]
        error_details(api.answer(case["id"], second["id"], "mpi"), 409, "not_allowed_in_state")
        assert api.upload(case["id"], "ministry_opinion", "mpi").status_code == 201
        assert api.answer(case["id"], second["id"], "mpi").status_code == 200


class TestWhatAConsultedMinistrySees:
    def test_a_ministry_sees_only_the_cases_that_consult_it(self, api: Api) -> None:
        for_mpi = api.case_in_consultation(("mpi",))
        for_mof = api.case_in_consultation(("mof",))
        not_consulted = api.case_in_ministry_appraisal()
        for who, own, others in (
            ("mpi", for_mpi, (for_mof, not_consulted)),
            ("mof", for_mof, (for_mpi, not_consulted)),
        ):
            listed = api.list_cases(who).json()["items"]
            assert [c["id"] for c in listed] == [own["id"]]
            assert api.read(own["id"], who)["state"] == "consultation"
            for other in others:
                response = api.client.get(f"/api/v1/cases/{other['id']}", headers=api.headers(who))
                error_details(response, 404, "not_found")
                response = api.client.get(
                    f"/api/v1/cases/{other['id']}/consultations", headers=api.headers(who)
                )
                error_details(response, 404, "not_found")

    def test_a_ministry_sees_only_its_own_consultation_of_a_shared_case(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        assert mine(api, case["id"], "mpi")["ministry"] == "mpi"
        assert mine(api, case["id"], "mof")["ministry"] == "mof"
        assert len(api.consultations(case["id"], "ministry")) == 2

    def test_a_ministry_sees_no_case_before_it_is_consulted(self, api: Api) -> None:
        case = api.case_in_ministry_appraisal()
        assert api.list_cases("mpi").json()["items"] == []
        api.advance(case["id"], "open_consultation", "ministry", ministries=["mpi"])
        assert [c["id"] for c in api.list_cases("mpi").json()["items"]] == [case["id"]]
