"""Cheap polling: the pipeline's ETag changes with what the pipeline shows, and only then."""

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from app.context import AppContext
from app.pipeline import service as pipeline_service
from tests.factories import SUBMIT_DOCUMENTS, Api, Clock
from tests.pipeline.test_pipeline import api_counts, db_counts

MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock(ctx: AppContext) -> Clock:
    ctx.clock = Clock(MONDAY)
    return ctx.clock


def tag(api: Api, who: str = "council", **params: str) -> str:
    response = api.client.get("/api/v1/pipeline", params=params, headers=api.headers(who))
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def poll(api: Api, etag: str, who: str = "council", **params: str) -> int:
    headers = {**api.headers(who), "If-None-Match": etag}
    response = api.client.get("/api/v1/pipeline", params=params, headers=headers)
    if response.status_code == 304:
        assert response.content == b""
        assert response.headers["etag"] in etag
    return response.status_code


class TestTheTagChangesWithWhatThePipelineShows:
    def test_a_new_case_changes_it(self, api: Api) -> None:
        before = tag(api)
        api.create_case()
        assert poll(api, before) == 200

    def test_a_transition_changes_it(self, api: Api) -> None:
        case = api.submitted_case()
        before = tag(api)
        api.advance(case["id"], "accept", "council")
        assert poll(api, before) == 200

    def test_an_edit_of_a_shown_field_changes_it(self, api: Api) -> None:
        case = api.create_case()
        before = tag(api)
        assert api.patch(case["id"], applicant_name="Khu CNTT Hậu Giang").status_code == 200
        assert poll(api, before) == 200

    def test_a_case_becoming_overdue_changes_it(self, api: Api, clock: Clock) -> None:
        api.submitted_case()  # due three working days later, Thursday 5 March
        clock.advance(days=3, hours=14)  # Thursday 23:00 in Hà Nội: due today, not overdue
        before = tag(api)
        clock.advance(hours=2)  # Friday 01:00: overdue
        assert poll(api, before) == 200
        assert api_counts(api.pipeline().json(), "overdue") == {"submitted": 1}

    def test_a_new_day_changes_it_as_days_in_state_grow(self, api: Api, clock: Clock) -> None:
        api.create_case()
        clock.advance(hours=14)  # Monday 23:00 in Hà Nội
        before = tag(api)
        clock.advance(hours=2)
        assert poll(api, before) == 200


class TestTheTagStaysWhenNothingShownChanges:
    def test_repeated_polls_answer_304_with_an_empty_body(self, api: Api) -> None:
        api.create_case()
        current = tag(api)
        for _ in range(3):
            assert poll(api, current) == 304

    def test_a_document_upload_does_not_change_it(self, api: Api) -> None:
        case = api.create_case()
        before = tag(api)
        assert api.upload(case["id"], "provincial_proposal").status_code == 201
        assert poll(api, before) == 304

    def test_a_consultation_answer_does_not_change_it(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi",))
        before = tag(api)
        assert api.upload(case["id"], "ministry_opinion", "mpi").status_code == 201
        (consultation,) = api.consultations(case["id"])
        assert api.answer(case["id"], consultation["id"], "mpi").status_code == 200
        assert poll(api, before) == 304

    def test_hours_passing_within_a_day_do_not_change_it(self, api: Api, clock: Clock) -> None:
        api.submitted_case()
        before = tag(api)  # Monday 09:00 in Hà Nội
        clock.advance(hours=14, minutes=59)
        assert poll(api, before) == 304

    def test_a_refused_transition_does_not_change_it(self, api: Api) -> None:
        case = api.create_case()
        before = tag(api)
        assert api.fire(case["id"], "submit", "applicant").status_code == 409
        assert poll(api, before) == 304


class TestA304IsCheap:
    def test_a_matching_poll_does_not_build_the_pipeline(
        self, api: Api, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        api.submitted_case()
        current = tag(api)

        def must_not_build(*_: Any, **__: Any) -> None:
            raise AssertionError("the pipeline was built for a 304")

        monkeypatch.setattr(pipeline_service, "build", must_not_build)
        assert poll(api, current) == 304

    def test_a_repeated_read_is_served_without_rebuilding_until_something_changes(
        self, api: Api, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        api.create_case()
        council = api.headers("council")
        first = api.client.get("/api/v1/pipeline", headers=council)
        built = pipeline_service.build

        def must_not_build(*_: Any, **__: Any) -> None:
            raise AssertionError("an unchanged pipeline was built again")

        monkeypatch.setattr(pipeline_service, "build", must_not_build)
        again = api.client.get("/api/v1/pipeline", headers=council)
        assert again.status_code == 200
        assert again.content == first.content
        monkeypatch.setattr(pipeline_service, "build", built)
        api.create_case()
        changed = api.client.get("/api/v1/pipeline", headers=council).json()
        assert sum(s["count"] for s in changed["states"]) == 2

    def test_a_weak_or_listed_tag_matches(self, api: Api) -> None:
        api.create_case()
        current = tag(api)
        assert poll(api, f"W/{current}") == 304
        assert poll(api, f'"nope", {current}') == 304


class TestFilters:
    def test_each_filter_has_its_own_tag(self, api: Api) -> None:
        api.create_case()
        api.create_case("other_applicant", province="Tiền Giang")
        tags = {
            tag(api),
            tag(api, province="Hậu Giang"),
            tag(api, province="Tiền Giang"),
            tag(api, workflow="qtsc-chain-admission"),
        }
        assert len(tags) == 4

    def test_a_province_s_tag_ignores_other_provinces(self, api: Api) -> None:
        mine = api.create_case()
        hau_giang = tag(api, province="Hậu Giang")
        everything = tag(api)
        api.create_case("other_applicant", province="Tiền Giang")
        assert poll(api, hau_giang, province="Hậu Giang") == 304
        assert poll(api, everything) == 200
        assert api.patch(mine["id"], investor="Quỹ đầu tư").status_code == 200
        assert poll(api, hau_giang, province="Hậu Giang") == 200

    def test_filters_restrict_the_body(self, api: Api) -> None:
        api.create_case()
        api.create_case("other_applicant", province="Tiền Giang")
        response = api.client.get(
            "/api/v1/pipeline", params={"province": "Tiền Giang"}, headers=api.headers("council")
        )
        body = response.json()
        assert [c["province"] for c in body["cases"]] == ["Tiền Giang"]
        assert api_counts(body) == {"draft": 1}
        other = api.client.get(
            "/api/v1/pipeline", params={"workflow": "no-such"}, headers=api.headers("council")
        ).json()
        assert other == {"workflows": [], "states": [], "cases": [], "next_cursor": None}

    def test_an_applicant_s_tag_ignores_other_applicants(self, api: Api) -> None:
        api.create_case()
        mine = tag(api, "applicant")
        api.create_case("other_applicant", province="Tiền Giang")
        assert poll(api, mine, "applicant") == 304


class TestCountsAfterRandomTransitions:
    def test_counts_equal_a_direct_count_after_a_random_sequence(
        self, api: Api, ctx: AppContext
    ) -> None:
        rng = random.Random(20260302)
        # Who may fire what, with the uploads each action needs first.
        moves: dict[str, list[tuple[str, str, dict[str, Any], tuple[str, ...]]]] = {
            "draft": [
                ("submit", "applicant", {}, ()),
                ("withdraw", "applicant", {"reason": "r"}, ()),
            ],
            "submitted": [
                ("accept", "council", {}, ()),
                ("refuse_intake", "council", {"reason": "Thiếu tờ trình"}, ()),
            ],
            "council_review": [
                ("request_supplement", "council", {"reason": "Bổ sung"}, ()),
                ("propose_to_ministry", "council", {}, ("council_proposal",)),
                ("decline", "council", {"reason": "Chưa đủ điều kiện"}, ()),
            ],
            "supplement_requested": [("resubmit", "applicant", {}, ())],
            "ministry_appraisal": [
                ("request_supplement", "ministry", {"reason": "Bổ sung"}, ()),
            ],
        }
        uploader = {"council_proposal": "council"}
        cases = []
        for _ in range(6):
            case = api.create_case()
            for doc_type in SUBMIT_DOCUMENTS:
                assert api.upload(case["id"], doc_type).status_code == 201
            cases.append(case["id"])
        for _ in range(30):
            case_id = rng.choice(cases)
            state = api.read(case_id)["state"]
            if state not in moves:
                continue
            action, who, fields, needs = rng.choice(moves[state])
            for doc_type in needs:
                assert api.upload(case_id, doc_type, uploader[doc_type]).status_code == 201
            response = api.fire(case_id, action, who, **fields)
            assert response.status_code == 200, response.text
            body = api.pipeline().json()
            assert api_counts(body) == db_counts(ctx)
            assert sum(s["count"] for s in body["states"]) == len(cases)
