"""The dashboard's pipeline: counts per state, overdue figures, and cheap polling by ETag."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from app.cases.models import Case
from app.context import AppContext
from app.core.db import unit_of_work
from tests.factories import Api, Clock, error_details

# Monday 2 March 2026, 09:00 in Hà Nội; no public holiday in the weeks that follow.
MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock(ctx: AppContext) -> Clock:
    ctx.clock = Clock(MONDAY)
    return ctx.clock


def db_counts(ctx: AppContext, overdue_on: date | None = None) -> dict[str, int]:
    """Cases per state (or overdue cases per state) counted straight from the database."""
    query = select(Case.state, func.count()).group_by(Case.state)
    if overdue_on is not None:
        query = query.where(Case.due_at < overdue_on)
    with unit_of_work(ctx.engine, write=False) as session:
        return {state: int(n) for state, n in session.execute(query)}


def api_counts(body: dict[str, Any], field: str = "count") -> dict[str, int]:
    return {s["state"]: s[field] for s in body["states"] if s[field]}


def pipeline(api: Api, who: str = "council") -> dict[str, Any]:
    response = api.pipeline(who)
    assert response.status_code == 200, response.text
    return response.json()


def a_handful_of_cases(api: Api) -> dict[str, dict[str, Any]]:
    """One case in each of several states, plus a second draft and another province's draft."""
    cases = {
        "draft": api.create_case(),
        "submitted": api.submitted_case(),
        "council_review": api.case_in_council_review(),
        "ministry_appraisal": api.case_in_ministry_appraisal(),
        "consultation": api.case_in_consultation(("mpi",)),
        "other_draft": api.create_case("other_applicant", province="Tiền Giang"),
    }
    withdrawn = api.create_case()
    api.advance(withdrawn["id"], "withdraw", "applicant", reason="Tỉnh rút hồ sơ")
    cases["withdrawn"] = withdrawn
    return cases


class TestCountsPerState:
    def test_counts_equal_a_direct_count_of_the_database(self, api: Api, ctx: AppContext) -> None:
        a_handful_of_cases(api)
        body = pipeline(api)
        assert api_counts(body) == db_counts(ctx)
        assert api_counts(body) == {
            "draft": 2,
            "submitted": 1,
            "council_review": 1,
            "ministry_appraisal": 1,
            "consultation": 1,
            "withdrawn": 1,
        }

    def test_counts_follow_a_transition(self, api: Api, ctx: AppContext) -> None:
        cases = a_handful_of_cases(api)
        api.advance(cases["submitted"]["id"], "accept", "council")
        body = pipeline(api)
        assert api_counts(body) == db_counts(ctx)
        assert "submitted" not in api_counts(body)
        assert api_counts(body)["council_review"] == 2

    def test_every_state_of_the_workflow_is_listed_with_its_labels(
        self, api: Api, ctx: AppContext
    ) -> None:
        body = pipeline(api)
        states = ctx.workflows.get("qtsc-chain-admission", 1).definition.states
        assert [s["state"] for s in body["states"]] == list(states)
        assert all(s["count"] == 0 and s["overdue"] == 0 for s in body["states"])
        draft = body["states"][0]
        assert draft["label"] == {"vi": "Đang soạn hồ sơ", "en": "Drafting"}

    def test_every_visible_case_is_listed_with_its_state(self, api: Api) -> None:
        cases = a_handful_of_cases(api)
        listed = {c["id"]: c["state"] for c in pipeline(api)["cases"]}
        expected = {
            c["id"]: ("draft" if name == "other_draft" else name) for name, c in cases.items()
        }
        assert listed == expected


class TestOverdue:
    def test_nothing_is_overdue_on_the_day_the_cases_move(self, api: Api, clock: Clock) -> None:
        a_handful_of_cases(api)
        body = pipeline(api)
        assert api_counts(body, "overdue") == {}
        assert not any(c["overdue"] for c in body["cases"])

    def test_overdue_counts_appear_as_time_passes_due_dates(
        self, api: Api, ctx: AppContext, clock: Clock
    ) -> None:
        cases = a_handful_of_cases(api)
        # Due: submitted 5 March, appraisal 9 March, consultation 16 March, review 30 March.
        clock.advance(days=8)  # Tuesday 10 March
        body = pipeline(api)
        assert api_counts(body, "overdue") == {"submitted": 1, "ministry_appraisal": 1}
        assert api_counts(body, "overdue") == db_counts(ctx, overdue_on=ctx.today())
        late = {c["id"] for c in body["cases"] if c["overdue"]}
        assert late == {cases["submitted"]["id"], cases["ministry_appraisal"]["id"]}
        # Overdue cases come first on the board.
        assert {c["id"] for c in body["cases"][:2]} == late

        clock.advance(days=30)
        body = pipeline(api)
        assert api_counts(body, "overdue") == {
            "submitted": 1,
            "council_review": 1,
            "ministry_appraisal": 1,
            "consultation": 1,
        }
        assert api_counts(body, "overdue") == db_counts(ctx, overdue_on=ctx.today())

    def test_a_case_without_a_clock_is_never_overdue(self, api: Api, clock: Clock) -> None:
        api.create_case()
        api.case_awaiting_supplement("council")
        clock.advance(days=365)
        body = pipeline(api)
        assert api_counts(body, "overdue") == {}
        assert all(c["due_at"] is None for c in body["cases"])


class TestDaysInState:
    def test_the_median_counts_calendar_days_since_each_case_entered_its_state(
        self, api: Api, clock: Clock
    ) -> None:
        drafts = [api.create_case()]
        clock.advance(days=2)
        drafts.append(api.create_case())
        clock.advance(days=4)
        drafts.append(api.create_case())
        api.submitted_case()  # entered `submitted` today; its draft days are behind it
        clock.advance(days=1)

        medians = {s["state"]: s["median_days_in_state"] for s in pipeline(api)["states"]}

        # Drafts have waited 7, 5 and 1 days; the submitted case 1 day.
        assert medians["draft"] == 5
        assert medians["submitted"] == 1
        assert medians["member"] is None

    def test_the_tag_changes_when_the_day_changes(self, api: Api, clock: Clock) -> None:
        api.create_case()
        first = api.pipeline("council")
        clock.advance(days=1)
        again = api.pipeline("council", if_none_match=first.headers["ETag"])
        assert again.status_code == 200
        medians = {s["state"]: s["median_days_in_state"] for s in again.json()["states"]}
        assert medians["draft"] == 1


class TestPollingWithAnETag:
    def test_an_unchanged_pipeline_answers_304_with_an_empty_body(self, api: Api) -> None:
        a_handful_of_cases(api)
        first = api.pipeline()
        tag = first.headers["etag"]
        assert tag.startswith('"')
        assert tag.endswith('"')
        again = api.pipeline(if_none_match=tag)
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == tag

    def test_the_etag_changes_after_a_transition(self, api: Api) -> None:
        cases = a_handful_of_cases(api)
        tag = api.pipeline().headers["etag"]
        api.advance(cases["submitted"]["id"], "accept", "council")
        after = api.pipeline(if_none_match=tag)
        assert after.status_code == 200
        assert after.headers["etag"] != tag
        assert api_counts(after.json())["council_review"] == 2
        assert api.pipeline(if_none_match=after.headers["etag"]).status_code == 304

    def test_a_stale_or_foreign_tag_gets_the_full_body(self, api: Api) -> None:
        a_handful_of_cases(api)
        for tag in ('"0"', "*", 'W/"abc"', ""):
            response = api.pipeline(if_none_match=tag)
            assert response.status_code == 200
            assert response.json()["states"]

    def test_each_viewer_has_its_own_tag(self, api: Api) -> None:
        a_handful_of_cases(api)
        council_tag = api.pipeline("council").headers["etag"]
        applicant = api.pipeline("applicant", if_none_match=council_tag)
        assert applicant.status_code == 200
        assert applicant.headers["etag"] != council_tag


class TestWhoSeesWhat:
    def test_an_applicant_sees_only_its_own_cases(self, api: Api) -> None:
        cases = a_handful_of_cases(api)
        body = pipeline(api, "applicant")
        ids = {c["id"] for c in body["cases"]}
        assert cases["other_draft"]["id"] not in ids
        assert ids == {c["id"] for name, c in cases.items() if name != "other_draft"}
        assert api_counts(body)["draft"] == 1
        other = pipeline(api, "other_applicant")
        assert [c["id"] for c in other["cases"]] == [cases["other_draft"]["id"]]
        assert api_counts(other) == {"draft": 1}

    def test_a_consulted_ministry_sees_only_the_cases_that_consult_it(self, api: Api) -> None:
        cases = a_handful_of_cases(api)
        body = pipeline(api, "mpi")
        assert [c["id"] for c in body["cases"]] == [cases["consultation"]["id"]]
        assert api_counts(body) == {"consultation": 1}
        assert pipeline(api, "mof")["cases"] == []

    def test_a_viewer_sees_the_whole_pipeline(self, api: Api, ctx: AppContext) -> None:
        a_handful_of_cases(api)
        assert api_counts(pipeline(api, "viewer")) == db_counts(ctx)

    def test_the_pipeline_needs_a_token(self, api: Api) -> None:
        error_details(api.client.get("/api/v1/pipeline"), 401, "unauthenticated")


class TestPages:
    def test_pages_are_bounded_and_together_list_every_case_once(self, api: Api) -> None:
        made = {api.create_case()["id"] for _ in range(5)}
        seen: list[str] = []
        cursor: str | None = None
        sizes = []
        while True:
            params: dict[str, Any] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            body = api.client.get(
                "/api/v1/pipeline", params=params, headers=api.headers("council")
            ).json()
            sizes.append(len(body["cases"]))
            seen += [c["id"] for c in body["cases"]]
            assert api_counts(body) == {"draft": 5}
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert sizes == [2, 2, 1]
        assert sorted(seen) == sorted(made)

    def test_cases_with_a_running_clock_come_before_those_without(self, api: Api) -> None:
        api.create_case()
        accepted = api.case_in_council_review()
        body = pipeline(api)
        assert body["cases"][0]["id"] == accepted["id"]
        assert body["cases"][0]["due_at"] is not None
        assert all(c["due_at"] is None for c in body["cases"][1:])

    def test_each_page_has_its_own_tag(self, api: Api) -> None:
        for _ in range(3):
            api.create_case()
        first = api.client.get(
            "/api/v1/pipeline", params={"limit": 2}, headers=api.headers("council")
        )
        second = api.client.get(
            "/api/v1/pipeline",
            params={"limit": 2, "cursor": first.json()["next_cursor"]},
            headers=api.headers("council"),
        )
        assert first.headers["ETag"] != second.headers["ETag"]

    def test_a_malformed_cursor_is_refused_naming_it(self, api: Api) -> None:
        response = api.client.get(
            "/api/v1/pipeline", params={"cursor": "not-a-cursor"}, headers=api.headers("council")
        )
        assert response.status_code == 422
        assert "query.cursor" in [d["field"] for d in response.json()["error"]["details"]]
