"""The change feed as Server-Sent Events, read from a real server; and the feed's order under
concurrent writers."""

import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.context import AppContext
from app.core.db import unit_of_work
from app.events.models import Event
from app.events.service import emit
from tests.factories import Api
from tests.live import serve


@pytest.fixture
def server(ctx: AppContext) -> Iterator[str]:
    with serve(ctx) as url:
        yield url


def read_stream(
    url: str, token: str, count: int, headers: dict[str, str] | None = None, **params: str
) -> list[dict[str, Any]]:
    """The first `count` events of the stream (ids and data), then hang up."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    with httpx.stream(
        "GET",
        f"{url}/api/v1/events/stream",
        params=params,
        headers={"Authorization": f"Bearer {token}", **(headers or {})},
        timeout=20,
    ) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith(":"):
                continue
            if not line:
                if current:
                    events.append(current)
                    current = {}
                if len(events) >= count:
                    break
                continue
            name, _, value = line.partition(":")
            current[name] = value.lstrip(" ")
    return [{"id": e["id"], **json.loads(e["data"])} for e in events]


def all_event_ids(ctx: AppContext) -> list[int]:
    with unit_of_work(ctx.engine, write=False) as session:
        return list(session.scalars(select(Event.id).order_by(Event.id)))


class TestStream:
    def test_the_stream_serves_the_feed_in_order(self, api: Api, server: str) -> None:
        case = api.submitted_case()
        expected = api.events_page().json()["items"]
        got = read_stream(server, api.tokens["council"], len(expected))
        assert [int(e["id"]) for e in got] == [e["id"] for e in expected]
        assert [e["type"] for e in got] == [e["type"] for e in expected]
        assert all(e["case_id"] == case["id"] for e in got)

    def test_a_client_resumes_after_its_last_event_id(self, api: Api, server: str) -> None:
        api.submitted_case()
        everything = api.events_page().json()["items"]
        first = read_stream(server, api.tokens["council"], 3)
        rest = read_stream(
            server,
            api.tokens["council"],
            len(everything) - 3,
            headers={"Last-Event-ID": str(first[-1]["id"])},
        )
        assert [int(e["id"]) for e in first + rest] == [e["id"] for e in everything]

    def test_an_event_committed_while_connected_arrives(self, api: Api, server: str) -> None:
        case = api.submitted_case()
        cursor = api.events_page().json()["next_cursor"]
        result: dict[str, Any] = {}

        def listen() -> None:
            result["events"] = read_stream(server, api.tokens["council"], 1, after=cursor)

        listener = threading.Thread(target=listen)
        listener.start()
        time.sleep(0.5)
        api.advance(case["id"], "accept", "council")
        listener.join(15)
        assert not listener.is_alive()
        assert int(result["events"][0]["id"]) > int(cursor)

    def test_an_applicant_s_stream_has_only_its_own_cases(self, api: Api, server: str) -> None:
        api.create_case("other_applicant", province="Tiền Giang")
        mine = api.create_case()
        got = read_stream(server, api.tokens["applicant"], 1)
        assert [e["case_id"] for e in got] == [mine["id"]]

    def test_a_bad_last_event_id_is_422(self, api: Api, server: str) -> None:
        response = httpx.get(
            f"{server}/api/v1/events/stream",
            headers={"Authorization": f"Bearer {api.tokens['council']}", "Last-Event-ID": "x"},
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid"

    def test_the_stream_needs_a_token(self, server: str) -> None:
        assert httpx.get(f"{server}/api/v1/events/stream").status_code == 401


class TestConcurrentWriters:
    def test_every_committed_event_is_read_once_in_order(self, api: Api, ctx: AppContext) -> None:
        """Writers commit at random moments (some roll back) while a reader follows the feed:
        the reader sees every committed event exactly once, in id order, with no gap."""
        case_ids = [uuid.UUID(api.create_case()["id"]) for _ in range(3)]
        start = int(api.events_page().json()["next_cursor"])
        done = threading.Event()
        errors: list[BaseException] = []

        def writer(seed: int) -> None:
            rng = random.Random(seed)
            try:
                for n in range(12):
                    try:
                        with unit_of_work(ctx.engine) as session:
                            emit(
                                session, "test.write", rng.choice(case_ids), {"n": n}, at=ctx.now()
                            )
                            time.sleep(rng.uniform(0, 0.02))
                            if rng.random() < 0.2:
                                raise RuntimeError("rolled back")
                    except RuntimeError:
                        pass
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)

        seen: list[int] = []

        def reader() -> None:
            cursor = str(start)
            while True:
                finished = done.is_set()
                body = api.events_page(after=cursor, wait=0.2).json()
                seen.extend(e["id"] for e in body["items"])
                cursor = body["next_cursor"]
                if finished and not body["items"]:
                    return

        writers = [threading.Thread(target=writer, args=(seed,)) for seed in range(6)]
        follower = threading.Thread(target=reader)
        follower.start()
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join(60)
        done.set()
        follower.join(60)
        assert not errors
        committed = [i for i in all_event_ids(ctx) if i > start]
        assert len(committed) > 30
        assert seen == committed
