"""The change feed: ordered, resumable by cursor, filtered by what the caller may see."""

import threading
import time
import uuid
from typing import Any

import pytest

from app.api.routes import events as events_endpoints
from app.context import AppContext
from app.core.db import unit_of_work
from app.events.service import emit
from tests.factories import Api, error_details


def page(api: Api, who: str = "council", **params: Any) -> dict[str, Any]:
    response = api.events_page(who, **params)
    assert response.status_code == 200, response.text
    return response.json()


def some_history(api: Api) -> list[dict[str, Any]]:
    """Two provinces' cases moved along a little; returns the cases."""
    first = api.submitted_case()
    api.advance(first["id"], "accept", "council")
    other = api.create_case("other_applicant", province="Tiền Giang")
    assert api.upload(other["id"], "provincial_proposal", "other_applicant").status_code == 201
    draft = api.create_case()
    return [first, other, draft]


class TestOrder:
    def test_events_come_in_id_order_with_increasing_ids(self, api: Api) -> None:
        cases = some_history(api)
        items = page(api)["items"]
        ids = [e["id"] for e in items]
        assert ids == sorted(ids)
        assert len(set(ids)) == len(ids)
        assert {e["case_id"] for e in items} == {c["id"] for c in cases}

    def test_a_case_s_events_tell_its_story_in_order(self, api: Api) -> None:
        case = api.submitted_case()
        api.advance(case["id"], "accept", "council")
        mine = [e for e in page(api)["items"] if e["case_id"] == case["id"]]
        assert mine[0]["type"] == "case.created"
        assert [e["type"] for e in mine[1:7]] == ["document.uploaded"] * 6
        moves = [
            (e["data"]["action"], e["data"]["to_state"])
            for e in mine
            if e["type"] == "case.transitioned"
        ]
        assert moves == [("submit", "submitted"), ("accept", "council_review")]
        versions = [e["data"]["version"] for e in mine]
        assert versions == sorted(versions)

    def test_each_event_has_the_contract_fields(self, api: Api) -> None:
        api.create_case()
        event = page(api)["items"][0]
        assert set(event) >= {"id", "type", "case_id", "at", "data"}
        assert event["at"].endswith(("Z", "+00:00"))


class TestCursor:
    def test_the_next_cursor_continues_without_gaps_or_duplicates(
        self, api: Api, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        some_history(api)
        everything = page(api)["items"]
        assert len(everything) > 7
        monkeypatch.setattr(events_endpoints, "PAGE", 3)
        seen: list[dict[str, Any]] = []
        cursor = "0"
        for _ in range(len(everything)):
            body = page(api, after=cursor)
            if not body["items"]:
                break
            assert len(body["items"]) <= 3
            seen.extend(body["items"])
            assert body["next_cursor"] == str(body["items"][-1]["id"])
            cursor = body["next_cursor"]
        assert seen == everything

    def test_after_a_cursor_come_exactly_the_later_events(self, api: Api) -> None:
        some_history(api)
        everything = page(api)["items"]
        middle = len(everything) // 2
        body = page(api, after=str(everything[middle]["id"]))
        assert body["items"] == everything[middle + 1 :]

    def test_at_the_end_the_cursor_stays_put(self, api: Api) -> None:
        some_history(api)
        end = page(api)["next_cursor"]
        body = page(api, after=end)
        assert body == {"items": [], "next_cursor": end}

    def test_new_events_appear_after_the_last_cursor(self, api: Api) -> None:
        case = api.create_case()
        cursor = page(api)["next_cursor"]
        assert api.upload(case["id"], "provincial_proposal").status_code == 201
        body = page(api, after=cursor)
        assert [e["type"] for e in body["items"]] == ["document.uploaded"]
        assert int(body["next_cursor"]) > int(cursor)

    def test_an_empty_feed_starts_at_zero(self, api: Api) -> None:
        assert page(api) == {"items": [], "next_cursor": "0"}

    @pytest.mark.parametrize("cursor", ["abc", "-1", "1.5", "", " 3", "0x10", "٣", "9" * 30])
    def test_a_bad_cursor_is_422(self, api: Api, cursor: str) -> None:
        details = error_details(api.events_page(after=cursor), 422, "invalid")
        assert "query.after" in [d["field"] for d in details]

    def test_a_negative_wait_is_422(self, api: Api) -> None:
        error_details(api.events_page(wait=-1), 422, "invalid")


class TestVisibility:
    def test_an_applicant_sees_only_events_of_its_own_cases(self, api: Api) -> None:
        first, other, draft = some_history(api)
        own = {e["case_id"] for e in page(api, "applicant")["items"]}
        assert own == {first["id"], draft["id"]}
        theirs = {e["case_id"] for e in page(api, "other_applicant")["items"]}
        assert theirs == {other["id"]}

    def test_an_applicant_s_cursor_skips_other_provinces_events(self, api: Api) -> None:
        mine = api.create_case()
        cursor = page(api, "applicant")["next_cursor"]
        api.create_case("other_applicant", province="Tiền Giang")
        assert page(api, "applicant", after=cursor)["items"] == []
        assert api.upload(mine["id"], "provincial_proposal").status_code == 201
        assert [e["case_id"] for e in page(api, "applicant", after=cursor)["items"]] == [mine["id"]]

    def test_a_consulted_ministry_sees_only_cases_that_consult_it(self, api: Api) -> None:
        consulted = api.case_in_consultation(("mpi",))
        api.create_case()
        assert {e["case_id"] for e in page(api, "mpi")["items"]} == {consulted["id"]}
        assert page(api, "mof")["items"] == []

    def test_the_feed_needs_a_token(self, api: Api) -> None:
        error_details(api.client.get("/api/v1/events"), 401, "unauthenticated")


class TestLongPoll:
    def test_waiting_with_nothing_new_returns_empty(self, api: Api) -> None:
        api.create_case()
        cursor = page(api)["next_cursor"]
        body = page(api, after=cursor, wait=1)
        assert body == {"items": [], "next_cursor": cursor}

    def test_waiting_with_news_already_there_answers_at_once(self, api: Api) -> None:
        api.create_case()
        started = time.monotonic()
        body = page(api, after="0", wait=20)
        assert body["items"]
        # Far below the 20 seconds asked for: it did not wait.
        assert time.monotonic() - started < 10

    def test_a_waiting_poll_returns_the_event_of_a_transition_made_meanwhile(
        self, api: Api
    ) -> None:
        case = api.submitted_case()
        cursor = page(api)["next_cursor"]
        result: dict[str, Any] = {}

        def poll() -> None:
            result["response"] = api.events_page("council", after=cursor, wait=15)

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(0.3)
        assert poller.is_alive(), "the poll answered before anything happened"
        api.advance(case["id"], "accept", "council")
        poller.join(timeout=15)
        assert not poller.is_alive()
        response = result["response"]
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        # Accepting also files the receipt (a generated document) in the same transaction.
        assert [(e["type"], e["data"].get("action")) for e in items if "action" in e["data"]] == [
            ("case.transitioned", "accept")
        ]
        assert response.json()["next_cursor"] == str(items[-1]["id"])

    def test_a_waiting_applicant_is_not_woken_by_another_province(self, api: Api) -> None:
        mine = api.create_case()
        cursor = page(api, "applicant")["next_cursor"]
        result: dict[str, Any] = {}

        def poll() -> None:
            result["body"] = page(api, "applicant", after=cursor, wait=3)

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(0.3)
        api.create_case("other_applicant", province="Tiền Giang")
        time.sleep(0.5)
        assert poller.is_alive(), "woken by an event the applicant may not see"
        assert api.upload(mine["id"], "provincial_proposal").status_code == 201
        poller.join(timeout=10)
        assert [e["case_id"] for e in result["body"]["items"]] == [mine["id"]]


class TestCommitOrder:
    def test_a_reader_never_skips_an_event_that_commits_after_a_later_one(
        self, api: Api, ctx: AppContext
    ) -> None:
        slow_case = api.create_case()
        fast_case = api.submitted_case()
        cursor = page(api)["next_cursor"]
        emitted, release = threading.Event(), threading.Event()

        def slow_writer() -> None:
            # A transaction that records its event, then takes its time to commit.
            with unit_of_work(ctx.engine) as session:
                emit(session, "test.slow", uuid.UUID(slow_case["id"]), {}, at=ctx.now())
                emitted.set()
                release.wait(10)

        def fast_writer() -> None:
            api.advance(fast_case["id"], "accept", "council")

        writers = [threading.Thread(target=slow_writer), threading.Thread(target=fast_writer)]
        writers[0].start()
        assert emitted.wait(10)
        writers[1].start()
        time.sleep(0.5)
        # A dashboard polls while the slow transaction is still open.
        first = page(api, after=cursor)
        release.set()
        for writer in writers:
            writer.join(10)
        rest = page(api, after=first["next_cursor"])["items"]
        # (The accept also files its receipt, a `document.uploaded` event.)
        seen = [e["type"] for e in first["items"] + rest if e["type"] != "document.uploaded"]
        assert sorted(seen) == ["case.transitioned", "test.slow"]
