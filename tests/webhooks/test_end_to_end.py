"""Webhooks as they run in production: `admission worker` processes (two on PostgreSQL) deliver
to a receiver process that fails every other request and is killed once with SIGKILL, while
cases move through the API. Every event must arrive, signed, in each case's order; after the
subscription is removed nothing more may arrive."""

import signal
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.context import AppContext
from app.core.db import unit_of_work
from app.webhooks.models import OutboxCursor, WebhookDelivery
from tests.factories import Api
from tests.webhooks.conftest import Receiver, Workers, subscribe, worker_env

CASES = 4
# Records the receiver logs before it is killed, and how long it stays down.
KILL_AFTER = 12
DOWN_SECONDS = 0.4


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def first_success_order(records: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Per case, the event ids in the order their first 2xx answer was logged."""
    seen: set[str] = set()
    order: dict[str, list[int]] = defaultdict(list)
    for r in records:
        if r["status"] == 200 and r["id"] not in seen:
            seen.add(r["id"])
            order[r["event"]["case_id"]].append(int(r["id"]))
    return order


def cursor_position(ctx: AppContext) -> int:
    with unit_of_work(ctx.engine, write=False) as session:
        found = session.scalar(
            select(OutboxCursor.last_event_id).where(OutboxCursor.name == "webhooks")
        )
    return int(found or 0)


class TestThroughFailuresAndAKill:
    def test_every_event_arrives_signed_in_case_order_and_nothing_after_removal(
        self,
        api: Api,
        ctx: AppContext,
        is_postgres: bool,
        receivers: list[Receiver],
        workers: Workers,
        tmp_path: Path,
    ) -> None:
        receiver = Receiver(tmp_path, [], mode="alternate")
        sub = subscribe(api, "council", receiver.url())
        receiver.secrets = [sub["secret"]]
        receivers.append(receiver.start())
        env = worker_env(
            ctx,
            webhook_backoff_base_seconds=0.05,
            webhook_backoff_max_seconds=0.4,
            webhook_poll_seconds=0.05,
            webhook_max_attempts=50,
            webhook_timeout_seconds=5,
        )
        for _ in range(2 if is_postgres else 1):
            workers.start(env, "--batch", "4")

        first_pid = None
        for n in range(CASES):
            api.case_in_council_review()
            if n == 1:
                wait_for(lambda: len(receiver.records()) >= KILL_AFTER, 30, "first deliveries")
                first_pid = receiver.process.pid if receiver.process else None
                receiver.kill()
                time.sleep(DOWN_SECONDS)
                receiver.start()
        expected = {str(e["id"]) for e in api.events_page().json()["items"]}
        assert len(expected) > CASES * 9

        def all_arrived() -> bool:
            ok = {r["id"] for r in receiver.records() if r["status"] == 200}
            return expected <= ok

        wait_for(all_arrived, 60, "every event to be answered 2xx")
        # The receiver logs its answer before the worker records it: wait for the worker.
        headers = api.headers("council")

        def deliveries() -> dict[str, int]:
            url = f"/api/v1/webhooks/{sub['id']}"
            return api.client.get(url, headers=headers).json()["deliveries"]

        wait_for(lambda: deliveries()["pending"] == 0, 30, "the workers to record every answer")
        records = receiver.records()

        # Signed, with the event's own id, the same body on every try, a fresh timestamp.
        assert all(r["valid"] for r in records)
        assert all(r["id"] == str(r["event"]["id"]) for r in records)
        assert {r["id"] for r in records} == expected
        bodies: dict[str, set[str]] = defaultdict(set)
        for r in records:
            bodies[r["id"]].add(r["body_sha256"])
        assert all(len(b) == 1 for b in bodies.values())
        assert all(abs(time.time() - int(r["timestamp"])) < 120 for r in records)
        # Every other request failed, and the kill cut some off: there were retries.
        failures = [r for r in records if r["status"] != 200]
        assert len(failures) >= len(expected) // 2

        # Each case's events were first accepted in the order they happened.
        order = first_success_order(records)
        assert len(order) == CASES
        assert all(ids == sorted(ids) for ids in order.values()), order

        # A second 2xx for an event is only explained by the kill: the killed receiver logged
        # its answer, but the worker never got it, so it tried again.
        successes: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in records:
            if r["status"] == 200:
                successes[r["id"]].append(r)
        duplicates = {i: rs for i, rs in successes.items() if len(rs) > 1}
        for event_id, rs in duplicates.items():
            assert len(rs) == 2, rs
            assert rs[0]["pid"] == first_pid, f"event {event_id} answered 2xx twice"
        assert len(duplicates) <= 8 * (2 if is_postgres else 1)

        assert deliveries() == {
            "pending": 0,
            "delivered": len(expected),
            "dead": 0,
            "cancelled": 0,
        }
        print(
            f"\nwebhooks e2e ({'postgresql, 2 workers' if is_postgres else 'sqlite, 1 worker'}):"
            f" {len(expected)} events, {len(records)} requests, {len(failures)} failed,"
            f" {len(duplicates)} delivered twice (all across the kill), 0 dead"
        )

        # Removed: new events are neither fanned out nor sent, and the workers stop cleanly.
        assert (
            api.client.delete(f"/api/v1/webhooks/{sub['id']}", headers=headers).status_code == 204
        )
        later = api.create_case()
        assert api.upload(later["id"], "provincial_proposal").status_code == 201
        newest = api.events_page().json()["items"][-1]["id"]
        wait_for(lambda: cursor_position(ctx) >= newest, 30, "the workers to see the new events")
        for process in workers.processes:
            process.send_signal(signal.SIGTERM)
        logs = ""
        for index, process in enumerate(workers.processes):
            out, _ = process.communicate(timeout=30)
            logs += workers.log(index).read_text()
            assert process.returncode == 0, logs
            assert "delivered" in out
        # The kill was mid-run: some tries found nobody listening, or lost their answer.
        assert any(e in logs for e in ("ConnectError", "RemoteProtocolError", "ReadError")), logs
        again = workers.run(env, "worker", "--once")
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith("0 events fanned out into 0 deliveries; 0 delivered")
        assert len(receiver.records()) == len(records)
        with unit_of_work(ctx.engine, write=False) as session:
            newest_delivery = session.scalar(
                select(WebhookDelivery.event_id).order_by(WebhookDelivery.event_id.desc())
            )
        assert newest_delivery is not None
        assert newest_delivery < newest
