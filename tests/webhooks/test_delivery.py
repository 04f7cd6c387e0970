"""The delivery worker in-process, against the test database and a real receiver process:
who receives what, retries and dead letters, removal, per-case order, `serve`'s loop."""

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from app.context import AppContext
from app.core.db import unit_of_work
from app.core.models import utcnow
from app.main import create_app
from app.webhooks.delivery import DeliveryWorker, Tally, fan_out
from app.webhooks.models import OutboxCursor, WebhookDelivery
from app.webhooks.repository import DeliveryRepository
from tests.factories import Api, Clock, make_tokens
from tests.webhooks.conftest import Receiver, admission, subscribe

BASE = "/api/v1/webhooks"


@pytest.fixture
def clock(ctx: AppContext) -> Clock:
    """The service clock, from now on moved by the test (retries come due when it says)."""
    ticking = Clock(utcnow())
    ctx.clock = ticking
    return ticking


@pytest.fixture
def quick(ctx: AppContext) -> AppContext:
    """Three tries, one to two seconds apart (of the test's clock)."""
    ctx.settings = ctx.settings.model_copy(
        update={
            "webhook_max_attempts": 3,
            "webhook_backoff_base_seconds": 1.0,
            "webhook_backoff_max_seconds": 2.0,
            "webhook_timeout_seconds": 5.0,
        }
    )
    return ctx


class Halfway(random.Random):
    """Jitter pinned to the middle of its range, so a retry never comes due at once."""

    def uniform(self, a: float, b: float) -> float:
        return (a + b) / 2


@pytest.fixture
def worker(ctx: AppContext) -> Iterator[DeliveryWorker]:
    with DeliveryWorker(ctx, batch=10) as running:
        running.random = Halfway()
        yield running


def deliveries(ctx: AppContext) -> list[WebhookDelivery]:
    with unit_of_work(ctx.engine, write=False) as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.event_id)))


def subscribed_receiver(
    api: Api, receivers: list[Receiver], tmp_path: Path, mode: str, **kw: Any
) -> tuple[Receiver, dict[str, Any]]:
    """A receiver and a council subscription sending to it."""
    receiver = Receiver(tmp_path, [], mode)
    subscription = subscribe(api, "council", receiver.url(), **kw)
    receiver.secrets = [subscription["secret"]]
    receivers.append(receiver.start())
    return receiver, subscription


class TestWhoReceivesWhat:
    def test_each_subscription_gets_the_events_its_organisation_and_role_may_see(
        self,
        api: Api,
        ctx: AppContext,
        worker: DeliveryWorker,
        receivers: list[Receiver],
        tmp_path: Path,
    ) -> None:
        receiver = Receiver(tmp_path, [])
        subs = {
            "applicant": subscribe(api, "applicant", receiver.url("/applicant")),
            "other_applicant": subscribe(api, "other_applicant", receiver.url("/other")),
            "viewer": subscribe(api, "viewer", receiver.url("/viewer"), ["case.created"]),
        }
        receiver.secrets = [s["secret"] for s in subs.values()]
        receivers.append(receiver.start())
        own = api.create_case()["id"]
        assert api.upload(own, "provincial_proposal").status_code == 201
        foreign = api.create_case("other_applicant", province="Tiền Giang")["id"]

        tally = worker.drain()

        assert (tally.fanned_out, tally.delivered) == (5, 5)
        got: dict[str, list[tuple[str, str]]] = {}
        for record in receiver.records():
            assert record["valid"]
            assert record["status"] == 200
            got.setdefault(record["path"], []).append(
                (record["event"]["case_id"], record["event"]["type"])
            )
        # Different cases go out in parallel: only each case's own order is fixed.
        got["/viewer"].sort(key=lambda item: item[0] != own)
        assert got == {
            "/applicant": [(own, "case.created"), (own, "document.uploaded")],
            "/other": [(foreign, "case.created")],
            "/viewer": [(own, "case.created"), (foreign, "case.created")],
        }
        listed = api.client.get(
            f"{BASE}/{subs['applicant']['id']}/deliveries", headers=api.headers("applicant")
        ).json()["items"]
        assert {d["case_id"] for d in listed} == {own}
        assert {d["state"] for d in listed} == {"delivered"}

    def test_a_new_subscription_gets_only_what_happens_after_it(
        self,
        api: Api,
        ctx: AppContext,
        worker: DeliveryWorker,
        receivers: list[Receiver],
        tmp_path: Path,
    ) -> None:
        api.create_case()
        receiver, _ = subscribed_receiver(api, receivers, tmp_path, "never")
        api.create_case()
        earlier_and_later = api.events_page().json()["items"]
        worker.drain()
        assert [r["id"] for r in receiver.records()] == [str(earlier_and_later[-1]["id"])]

    def test_the_body_is_the_feed_item_and_the_id_is_the_event_id(
        self,
        api: Api,
        ctx: AppContext,
        worker: DeliveryWorker,
        receivers: list[Receiver],
        tmp_path: Path,
    ) -> None:
        receiver, _ = subscribed_receiver(api, receivers, tmp_path, "never")
        case = api.create_case()
        worker.drain()
        [record] = receiver.records()
        [item] = api.events(case["id"])
        assert record["event"] == item
        assert record["id"] == str(item["id"])
        assert record["content_type"] == "application/json"
        assert record["valid"]


class TestRetriesAndDeadLetters:
    def test_a_failing_receiver_is_retried_then_dead_lettered_then_redriven(
        self,
        api: Api,
        quick: AppContext,
        clock: Clock,
        worker: DeliveryWorker,
        receivers: list[Receiver],
        tmp_path: Path,
    ) -> None:
        receiver, sub = subscribed_receiver(api, receivers, tmp_path, "always")
        api.create_case()
        for _ in range(3):
            tally = worker.drain()
            assert tally.delivered == 0
            clock.advance(seconds=2.5)
        assert tally.dead == 1
        assert worker.drain() == Tally()
        records = receiver.records()
        assert [r["status"] for r in records] == [500, 500, 500]
        assert len({r["id"] for r in records}) == 1
        assert len({r["body_sha256"] for r in records}) == 1
        assert all(r["valid"] for r in records)
        [dead] = api.client.get(
            f"{BASE}/{sub['id']}/deliveries", headers=api.headers("council")
        ).json()["items"]
        assert dead["state"] == "dead"
        assert dead["attempts"] == 3
        assert dead["last_status"] == 500
        assert dead["last_error"] == "HTTP 500: try again later"
        assert dead["next_attempt_at"] is None

        receiver.kill()
        receiver.start("never")
        listed = admission(quick, "webhooks", "list")
        assert f"{sub['id']}  hdqlc (council)  live  {receiver.url()}" in listed.stdout
        assert "dead=1" in listed.stdout
        refused = admission(quick, "webhooks", "redrive")
        assert refused.exit_code == 2
        assert "exactly one" in refused.stderr
        redriven = admission(quick, "webhooks", "redrive", "--subscription", sub["id"])
        assert redriven.stdout.strip() == "1 dead deliveries back to pending", redriven.stderr

        # The command ran on the wall clock: the test's clock moves past it.
        clock.advance(minutes=10)
        tally = worker.drain()
        assert tally.delivered == 1
        assert [r["status"] for r in receiver.records()] == [500, 500, 500, 200]
        [delivered] = api.client.get(
            f"{BASE}/{sub['id']}/deliveries", headers=api.headers("council")
        ).json()["items"]
        assert delivered["state"] == "delivered"
        assert delivered["attempts"] == 1
        assert delivered["last_status"] == 200
        again = admission(quick, "webhooks", "redrive", "--delivery", str(delivered["id"]))
        assert again.exit_code == 2
        assert "is not dead" in again.stderr

    def test_backoff_is_exponential_capped_and_jittered(self, ctx: AppContext) -> None:
        ctx.settings = ctx.settings.model_copy(
            update={"webhook_backoff_base_seconds": 2.0, "webhook_backoff_max_seconds": 30.0}
        )
        with DeliveryWorker(ctx) as worker:
            worker.random.seed(7)
            for attempts, ceiling in ((1, 2), (2, 4), (3, 8), (4, 16), (5, 30), (200, 30)):
                waits = [worker.backoff(attempts).total_seconds() for _ in range(200)]
                assert min(waits) >= 0
                assert max(waits) <= ceiling
                # Full jitter: spread over the whole range, not bunched at the ceiling.
                assert min(waits) < ceiling * 0.2
                assert max(waits) > ceiling * 0.8

    def test_an_unreachable_receiver_counts_as_a_failed_try(
        self, api: Api, quick: AppContext, clock: Clock, worker: DeliveryWorker
    ) -> None:
        from tests.live import free_port

        sub = subscribe(api, "council", f"http://127.0.0.1:{free_port()}/nobody")
        api.create_case()
        assert worker.drain().retried == 1
        [pending] = api.client.get(
            f"{BASE}/{sub['id']}/deliveries", headers=api.headers("council")
        ).json()["items"]
        assert pending["state"] == "pending"
        assert pending["attempts"] == 1
        assert pending["last_status"] is None
        assert pending["last_error"].startswith("ConnectError")


class TestRemoval:
    def test_removing_a_subscription_stops_its_retries_and_its_new_events(
        self,
        api: Api,
        quick: AppContext,
        clock: Clock,
        worker: DeliveryWorker,
        receivers: list[Receiver],
        tmp_path: Path,
    ) -> None:
        receiver, sub = subscribed_receiver(api, receivers, tmp_path, "always")
        api.create_case()
        assert worker.drain().retried == 1
        response = api.client.delete(f"{BASE}/{sub['id']}", headers=api.headers("council"))
        assert response.status_code == 204
        api.create_case()
        clock.advance(seconds=10)
        tally = worker.drain()
        assert (tally.events, tally.fanned_out, tally.claimed) == (1, 0, 0)
        assert len(receiver.records()) == 1
        assert [d.state for d in deliveries(quick)] == ["cancelled"]

    def test_a_claimed_delivery_is_not_sent_if_removed_before_sending(
        self,
        api: Api,
        ctx: AppContext,
        worker: DeliveryWorker,
        receivers: list[Receiver],
        tmp_path: Path,
    ) -> None:
        receiver, sub = subscribed_receiver(api, receivers, tmp_path, "never")
        api.create_case()
        fan_out(ctx)
        claimed = worker.claim()
        assert len(claimed) == 1
        api.client.delete(f"{BASE}/{sub['id']}", headers=api.headers("council"))
        tally = Tally()
        worker.send(claimed, tally)
        assert (tally.cancelled, tally.delivered) == (1, 0)
        assert receiver.records() == []
        assert [d.state for d in deliveries(ctx)] == ["cancelled"]


class TestOrder:
    def test_a_case_s_newer_events_wait_for_an_older_one_s_retry_other_cases_do_not(
        self,
        api: Api,
        quick: AppContext,
        clock: Clock,
        worker: DeliveryWorker,
        receivers: list[Receiver],
        tmp_path: Path,
    ) -> None:
        receiver, _ = subscribed_receiver(api, receivers, tmp_path, "always")
        first = api.create_case()["id"]
        for doc_type in ("provincial_proposal", "membership_scheme"):
            assert api.upload(first, doc_type).status_code == 201
        second = api.create_case()["id"]

        worker.drain()
        tried = [(r["event"]["case_id"], r["event"]["type"]) for r in receiver.records()]
        # Only the oldest event of each case was tried (the two cases at the same time).
        assert sorted(tried) == sorted([(first, "case.created"), (second, "case.created")])

        receiver.kill()
        receiver.start("never")
        clock.advance(seconds=5)
        worker.drain()
        delivered = [r for r in receiver.records() if r["status"] == 200]
        of_first = [int(r["id"]) for r in delivered if r["event"]["case_id"] == first]
        assert len(of_first) == 3
        assert of_first == sorted(of_first)

    def test_a_claimed_batch_holds_at_most_one_delivery_per_case(
        self, api: Api, ctx: AppContext, worker: DeliveryWorker
    ) -> None:
        subscribe(api, "council", "http://127.0.0.1:9/unused")
        case = api.create_case()["id"]
        for doc_type in ("provincial_proposal", "membership_scheme"):
            assert api.upload(case, doc_type).status_code == 201
        other = api.create_case()["id"]
        fan_out(ctx)
        claimed = worker.claim()
        assert sorted(str(c.event.case_id) for c in claimed) == sorted([case, other])
        assert worker.claim() == []


class TestSeveralWorkers:
    def test_fan_out_is_skipped_while_another_worker_holds_the_cursor(
        self, api: Api, ctx: AppContext, is_postgres: bool
    ) -> None:
        if not is_postgres:
            pytest.skip("SQLite runs one writer at a time: there is no lock to skip")
        subscribe(api, "council", "http://127.0.0.1:9/unused")
        api.create_case()
        with unit_of_work(ctx.engine) as session:
            session.merge(OutboxCursor(name="webhooks", last_event_id=0))
        with ctx.engine.connect() as holder:
            holder.execute(text("SELECT * FROM outbox_cursors WHERE name = 'webhooks' FOR UPDATE"))
            assert fan_out(ctx) == (0, 0)
            holder.rollback()
        assert fan_out(ctx) == (1, 1)

    def test_two_claims_at_once_take_different_deliveries(
        self, api: Api, ctx: AppContext, is_postgres: bool
    ) -> None:
        if not is_postgres:
            pytest.skip("SQLite runs one writer at a time: claims cannot overlap")
        subscribe(api, "council", "http://127.0.0.1:9/unused")
        for _ in range(4):
            api.create_case()
        fan_out(ctx)
        now = utcnow()
        lease = now.replace(year=now.year + 1)
        with unit_of_work(ctx.engine) as first, unit_of_work(ctx.engine) as second:
            taken_first = DeliveryRepository(first).claim(now, lease, 3)
            # The first transaction still holds its rows: the second skips them.
            taken_second = DeliveryRepository(second).claim(now, lease, 3)
        ids_first = {c.delivery_id for c in taken_first}
        ids_second = {c.delivery_id for c in taken_second}
        assert len(ids_first) == 3
        assert len(ids_second) == 1
        assert not ids_first & ids_second


class TestInsideServe:
    def test_serve_delivers_in_the_background_and_stops_with_the_app(
        self, ctx: AppContext, receivers: list[Receiver], tmp_path: Path
    ) -> None:
        ctx.settings = ctx.settings.model_copy(
            update={"webhook_delivery_in_serve": True, "webhook_poll_seconds": 0.05}
        )
        with TestClient(create_app(context=ctx)) as client:
            api = Api(client, make_tokens(ctx))
            assert any(t.name == "webhook-delivery" for t in threading.enumerate())
            receiver, _ = subscribed_receiver(api, receivers, tmp_path, "never")
            case = api.create_case()
            deadline = time.monotonic() + 15
            while not receiver.records() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [r["event"]["case_id"] for r in receiver.records()] == [case["id"]]
        assert not any(t.name == "webhook-delivery" for t in threading.enumerate())

    def test_the_loop_is_off_when_the_setting_says_so(self, client: TestClient) -> None:
        assert not any(t.name == "webhook-delivery" for t in threading.enumerate())
