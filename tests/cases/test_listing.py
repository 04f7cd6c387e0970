"""Listing cases: filters, text search without diacritics, cursor pagination, visibility."""

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from app.context import AppContext
from tests.factories import Api, Clock, error_details

MONDAY = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock(ctx: AppContext) -> Clock:
    ctx.clock = Clock(MONDAY)
    return ctx.clock


def ids(api: Api, who: str = "council", **params: Any) -> list[str]:
    response = api.list_cases(who, **params)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["items"]]


def tien_giang(api: Api, **fields: Any) -> dict[str, Any]:
    return api.create_case(
        "other_applicant",
        applicant_name="Công viên phần mềm Mekong Tiền Giang",
        province="Tiền Giang",
        unit_kind="software_park",
        **fields,
    )


class TestFilters:
    def test_state_keeps_only_cases_in_that_state(self, api: Api) -> None:
        draft = api.create_case()
        submitted = api.submitted_case()
        assert ids(api, state="submitted") == [submitted["id"]]
        assert ids(api, state="draft") == [draft["id"]]
        assert ids(api, state="member") == []

    def test_province_keeps_only_that_provinces_cases(self, api: Api) -> None:
        api.create_case()
        theirs = tien_giang(api)
        assert ids(api, province="Tiền Giang") == [theirs["id"]]

    def test_applicant_keeps_only_that_organisations_cases(self, api: Api) -> None:
        ours = api.create_case()
        theirs = tien_giang(api)
        assert ids(api, applicant="tien-giang") == [theirs["id"]]
        assert ids(api, applicant="hau-giang") == [ours["id"]]

    def test_filters_combine(self, api: Api) -> None:
        api.create_case()
        submitted = api.submitted_case()
        tien_giang(api)
        assert ids(api, state="submitted", province="Hậu Giang") == [submitted["id"]]
        assert ids(api, state="submitted", province="Tiền Giang") == []

    def test_overdue_finds_a_case_once_time_passes_its_due_date(
        self, api: Api, clock: Clock
    ) -> None:
        draft = api.create_case()
        submitted = api.submitted_case()
        assert submitted["due_at"] is not None
        assert ids(api, overdue="true") == []
        assert set(ids(api, overdue="false")) == {draft["id"], submitted["id"]}

        clock.advance(days=30)

        assert ids(api, overdue="true") == [submitted["id"]]
        assert ids(api, overdue="false") == [draft["id"]]
        (late,) = api.list_cases(overdue="true").json()["items"]
        assert late["overdue"] is True
        assert api.read(submitted["id"])["overdue"] is True

    def test_a_case_is_not_overdue_on_its_due_date(self, api: Api, clock: Clock) -> None:
        submitted = api.submitted_case()
        due = datetime.fromisoformat(submitted["due_at"])
        # 02:00 UTC is 09:00 in Hà Nội, the same calendar day.
        clock.at = due.replace(hour=2, tzinfo=UTC)
        assert ids(api, overdue="true") == []
        clock.advance(days=1)
        assert ids(api, overdue="true") == [submitted["id"]]


class TestTextSearch:
    @pytest.mark.parametrize("q", ["hau giang", "HẬU GIANG", "Hậu giang", "  hau   GIANG "])
    def test_search_ignores_diacritics_and_case(self, api: Api, q: str) -> None:
        ours = api.create_case()
        tien_giang(api)
        assert ids(api, q=q) == [ours["id"]]

    def test_the_letter_d_with_stroke_is_found_as_d(self, api: Api) -> None:
        case = api.create_case(applicant_name="Trung tâm CNTT Bình Định")
        api.create_case()
        assert ids(api, q="binh dinh") == [case["id"]]
        assert ids(api, q="ĐỊNH") == [case["id"]]

    def test_every_word_must_match_in_any_searchable_field(self, api: Api) -> None:
        case = api.create_case(address="Phường 5, thành phố Vị Thanh", investor="Quỹ đầu tư")
        theirs = tien_giang(api, address="Thành phố Mỹ Tho")
        assert ids(api, q="vị thanh hậu") == [case["id"]]
        assert ids(api, q="quy dau tu") == [case["id"]]
        assert set(ids(api, q="thanh pho")) == {case["id"], theirs["id"]}
        assert ids(api, q="my tho hau") == []

    @pytest.mark.parametrize("q", ["%", "_", "hau%giang"])
    def test_wildcard_characters_are_searched_literally(self, api: Api, q: str) -> None:
        api.create_case()
        assert ids(api, q=q) == []

    def test_an_edit_is_found_by_its_new_text(self, api: Api) -> None:
        case = api.create_case()
        assert api.patch(case["id"], investor="Tập đoàn Viễn thông Quân đội").status_code == 200
        assert ids(api, q="vien thong quan doi") == [case["id"]]


class TestPagination:
    def test_seven_cases_in_pages_of_three_come_each_exactly_once_newest_first(
        self, api: Api
    ) -> None:
        created = [api.create_case(applicant_name=f"Khu {n}")["id"] for n in range(7)]
        seen: list[str] = []
        pages: list[int] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 3}
            if cursor:
                params["cursor"] = cursor
            page = api.list_cases(**params).json()
            seen += [c["id"] for c in page["items"]]
            pages.append(len(page["items"]))
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == [3, 3, 1]
        assert seen == list(reversed(created))

    def test_cases_created_at_the_same_instant_are_still_each_listed_once(
        self, api: Api, ctx: AppContext
    ) -> None:
        ctx.clock = lambda: MONDAY
        created = {api.create_case(applicant_name=f"Khu {n}")["id"] for n in range(7)}
        seen: list[str] = []
        cursor = None
        for _ in range(4):
            params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            page = api.list_cases(**params).json()
            seen += [c["id"] for c in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert cursor is None
        assert sorted(seen) == sorted(created)

    def test_pagination_respects_the_filters(self, api: Api) -> None:
        ours = [api.create_case()["id"] for _ in range(4)]
        for _ in range(3):
            tien_giang(api)
        first = api.list_cases(province="Hậu Giang", limit=3).json()
        second = api.list_cases(province="Hậu Giang", limit=3, cursor=first["next_cursor"]).json()
        assert second["next_cursor"] is None
        assert [c["id"] for c in first["items"] + second["items"]] == list(reversed(ours))

    def test_an_exact_last_page_has_no_next_cursor(self, api: Api) -> None:
        for _ in range(3):
            api.create_case()
        page = api.list_cases(limit=3).json()
        assert len(page["items"]) == 3
        assert page["next_cursor"] is None

    @pytest.mark.parametrize(
        "cursor",
        [
            "not-a-cursor",
            "!!!",
            base64.urlsafe_b64encode(b"yesterday|someone").decode(),
            base64.urlsafe_b64encode(b"2026-03-16T02:00:00+00:00|not-a-uuid").decode(),
            "1234.not-a-uuid",
            "1234." + "A" * 32,
            "1234567890123456789." + "a" * 32,
        ],
        ids=["text", "symbols", "garbage-inside", "bad-id", "id", "upper-case", "moment-too-long"],
    )
    def test_an_invalid_cursor_is_refused(self, api: Api, cursor: str) -> None:
        api.create_case()
        response = api.list_cases(cursor=cursor)
        assert "query.cursor" in [d["field"] for d in error_details(response, 422, "invalid")]

    @pytest.mark.parametrize("limit", ["0", "-1", "many"])
    def test_an_invalid_limit_is_refused(self, api: Api, limit: str) -> None:
        response = api.list_cases(limit=limit)
        assert "query.limit" in [d["field"] for d in error_details(response, 422, "invalid")]


class TestVisibility:
    def test_an_applicant_sees_only_its_own_cases(self, api: Api) -> None:
        ours = api.create_case()
        theirs = tien_giang(api)
        assert ids(api, "applicant") == [ours["id"]]
        assert ids(api, "other_applicant") == [theirs["id"]]
        assert set(ids(api, "council")) == {ours["id"], theirs["id"]}

    @pytest.mark.parametrize(
        "params",
        [
            {"province": "Tiền Giang"},
            {"applicant": "tien-giang"},
            {"q": "tien giang"},
            {"state": "draft", "overdue": "false"},
        ],
        ids=["province", "applicant", "q", "state-and-overdue"],
    )
    def test_no_filter_reveals_another_provinces_cases(
        self, api: Api, params: dict[str, Any]
    ) -> None:
        ours = api.create_case()
        theirs = tien_giang(api)
        assert theirs["id"] in ids(api, "council", **params)
        assert ours["id"] not in ids(api, "council", **{**params, "q": "tien giang"})
        assert theirs["id"] not in ids(api, "applicant", **params)

    def test_a_consulted_ministry_lists_only_the_cases_it_is_consulted_on(self, api: Api) -> None:
        consulted = api.case_in_consultation(("mpi",))
        api.create_case()
        assert ids(api, "mpi") == [consulted["id"]]
        assert ids(api, "mof") == []
