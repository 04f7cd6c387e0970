"""Delivering webhooks from the transactional outbox (the `events` table).

A worker round has two steps, each in short transactions of its own:

1. **Fan-out.** Under the `webhooks` outbox cursor's row lock (skipped this round if another
   worker holds it), the events after the cursor become one pending delivery per live
   subscription that asked for their type and may see their case; the cursor moves past them.
   Event ids become visible in commit order (`app.events.service.emit`), so the cursor never
   passes an event that commits later.
2. **Delivery.** Due deliveries are claimed with a lease (`FOR UPDATE SKIP LOCKED` on
   PostgreSQL, so several workers share the queue without taking the same row), never a
   newer event of a case while an older one is pending for the same subscription. They are
   then POSTed outside any transaction, signed (`app.webhooks.signing`), and each outcome is
   recorded: a 2xx answer delivers; anything else is retried after an exponential backoff
   with full jitter, and dead-lettered after `webhook_max_attempts` tries.

A worker that dies while sending leaves its claims leased; once the lease runs out another
worker sends them again. Delivery is therefore at least once, and receivers de-duplicate on
the `webhook-id` header (the event id).
"""

import logging
import math
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

import httpx

from app.context import AppContext
from app.core.db import unit_of_work
from app.events.models import Event
from app.events.schemas import EventOut
from app.webhooks import destinations, signing
from app.webhooks.destinations import ForbiddenDestination
from app.webhooks.repository import (
    Claimed,
    DeliveryRepository,
    OutboxRepository,
    SubscriptionRepository,
)
from app.webhooks.schemas import DeliveryState

log = logging.getLogger("admission.webhooks")

CURSOR = "webhooks"
# Events fanned out per round.
FAN_OUT_BATCH = 500
# Requests in flight at once per worker.
MAX_PARALLEL = 8
# How much of a refusing receiver's answer is kept in `last_error`.
ERROR_CHARS = 300
USER_AGENT = "qtsc-admission-webhooks/1"


@dataclass
class Tally:
    """What one or more worker rounds did."""

    events: int = 0
    fanned_out: int = 0
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    cancelled: int = 0

    def add(self, other: "Tally") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def busy(self) -> bool:
        """Whether the round found work, so the next one should not wait."""
        return bool(self.events or self.claimed)

    def summary(self) -> str:
        return (
            f"{self.events} events fanned out into {self.fanned_out} deliveries; "
            f"{self.delivered} delivered, {self.retried} failed tries to retry, "
            f"{self.dead} dead, {self.cancelled} cancelled"
        )


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None
    error: str | None = None


def fan_out(ctx: AppContext, limit: int = FAN_OUT_BATCH) -> tuple[int, int]:
    """Turn the next events after the cursor into deliveries: (events, deliveries made)."""
    with unit_of_work(ctx.engine, write=False) as session:
        outbox = OutboxRepository(session)
        if outbox.latest_event_id() <= outbox.position(CURSOR):
            return 0, 0
    with unit_of_work(ctx.engine) as session:
        outbox = OutboxRepository(session)
        cursor = outbox.lock_cursor(CURSOR)
        if cursor is None:
            return 0, 0
        ids = outbox.event_ids_after(cursor.last_event_id, limit)
        if not ids:
            return 0, 0
        now = ctx.now()
        rows: list[dict[str, Any]] = []
        for subscription, owner in SubscriptionRepository(session).live_with_owner():
            for event_id, case_id in outbox.matching(
                subscription, owner, ctx.workflows, ids[0], ids[-1]
            ):
                rows.append(
                    {
                        "subscription_id": subscription.id,
                        "event_id": event_id,
                        "case_id": case_id,
                        "state": DeliveryState.PENDING.value,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
        DeliveryRepository(session).add_many(rows)
        cursor.last_event_id = ids[-1]
        return len(ids), len(rows)


def event_body(event: Event) -> bytes:
    """The delivery body: the event as the change feed shows it."""
    out = EventOut(
        id=event.id, type=event.type, case_id=event.case_id, at=event.at, data=event.data
    )
    return out.model_dump_json().encode()


class DeliveryWorker:
    """Fans out and delivers, a round at a time; `run` loops until told to stop."""

    def __init__(
        self, ctx: AppContext, *, batch: int = 20, client: httpx.Client | None = None
    ) -> None:
        settings = ctx.settings
        self.ctx = ctx
        self.batch = batch
        self.client = client or httpx.Client(
            timeout=settings.webhook_timeout_seconds,
            follow_redirects=False,
            headers={"user-agent": USER_AGENT},
        )
        self.parallel = max(1, min(batch, MAX_PARALLEL))
        self.pool = ThreadPoolExecutor(self.parallel, thread_name_prefix="webhook")
        # A claimed batch is sent in waves of `parallel` requests; each may take up to the
        # timeout per phase (connect, send, first byte). The lease outlasts all of that.
        waves = math.ceil(batch / self.parallel)
        self.lease = timedelta(seconds=3 * settings.webhook_timeout_seconds * waves + 30)
        self.random = random.Random()

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.client.close()

    def __enter__(self) -> "DeliveryWorker":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def backoff(self, attempts: int) -> timedelta:
        """Full jitter: a random wait up to the capped exponential delay after `attempts`."""
        settings = self.ctx.settings
        ceiling = min(
            settings.webhook_backoff_max_seconds,
            settings.webhook_backoff_base_seconds * 2 ** min(attempts - 1, 60),
        )
        return timedelta(seconds=self.random.uniform(0, ceiling))

    def run_once(self) -> Tally:
        """One round: fan out new events, then claim and send what is due."""
        tally = Tally()
        tally.events, tally.fanned_out = fan_out(self.ctx)
        claimed = self.claim()
        tally.claimed = len(claimed)
        if claimed:
            self.send(claimed, tally)
        return tally

    def drain(self) -> Tally:
        """Rounds until one finds nothing to do now (retries due later are left)."""
        total = Tally()
        while True:
            tally = self.run_once()
            total.add(tally)
            if not tally.busy:
                return total

    def run(self, stop: threading.Event) -> Tally:
        """Rounds until `stop` is set, pausing `webhook_poll_seconds` when idle."""
        total = Tally()
        poll = self.ctx.settings.webhook_poll_seconds
        while not stop.is_set():
            try:
                tally = self.run_once()
            except Exception:  # the database may be away for a while: try again later
                log.exception("webhook delivery round failed")
                stop.wait(poll)
                continue
            total.add(tally)
            if not tally.busy:
                stop.wait(poll)
        return total

    def claim(self) -> list[Claimed]:
        """Take a batch of due deliveries (in a transaction of its own) under a lease."""
        now = self.ctx.now()
        with unit_of_work(self.ctx.engine, write=False) as session:
            if not DeliveryRepository(session).any_due(now):
                return []
        with unit_of_work(self.ctx.engine) as session:
            return DeliveryRepository(session).claim(now, now + self.lease, self.batch)

    def send(self, claimed: list[Claimed], tally: Tally) -> None:
        """Send claimed deliveries in parallel and record each outcome; those whose
        subscription was removed meanwhile are cancelled instead."""
        with unit_of_work(self.ctx.engine, write=False) as session:
            removed = SubscriptionRepository(session).removed_among(
                c.subscription_id for c in claimed
            )
        dropped = [c.delivery_id for c in claimed if c.subscription_id in removed]
        if dropped:
            # Removing the subscription normally cancelled them already.
            with unit_of_work(self.ctx.engine) as session:
                DeliveryRepository(session).cancel(dropped)
            tally.cancelled += len(dropped)
        live = [c for c in claimed if c.subscription_id not in removed]
        for future in [self.pool.submit(self._deliver, c) for c in live]:
            try:
                result = future.result()
            except Exception:
                log.exception("recording a webhook delivery failed")
                continue
            if result is not None:
                setattr(tally, result, getattr(tally, result) + 1)

    def _deliver(self, claimed: Claimed) -> str | None:
        outcome = self._send(claimed)
        return self._record(claimed, outcome)

    def _send(self, claimed: Claimed) -> Outcome:
        body = event_body(claimed.event)
        timestamp = int(self.ctx.now().timestamp())
        headers = {
            "content-type": "application/json",
            **signing.headers(claimed.secret, str(claimed.event.id), timestamp, body),
        }
        try:
            target = destinations.pin(
                claimed.url, allow_private=self.ctx.settings.webhook_allow_private_hosts
            )
            headers.update(target.headers)
            with self.client.stream(
                "POST", target.url, content=body, headers=headers, extensions=target.extensions
            ) as answer:
                # Only the start of the answer is read (a short one entirely, so that the
                # connection can be reused).
                start = b""
                for chunk in answer.iter_bytes():
                    start += chunk
                    if len(start) >= ERROR_CHARS:
                        break
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ForbiddenDestination) as exc:
            return Outcome(ok=False, status=None, error=f"{type(exc).__name__}: {exc}"[:500])
        except Exception as exc:  # counted as a failed try, so it cannot loop for ever
            log.exception("webhook delivery %s could not be sent", claimed.delivery_id)
            return Outcome(ok=False, status=None, error=f"{type(exc).__name__}: {exc}"[:500])
        if 200 <= answer.status_code < 300:
            return Outcome(ok=True, status=answer.status_code)
        text = start[:ERROR_CHARS].decode("utf-8", "replace").strip()
        error = f"HTTP {answer.status_code}" + (f": {text}" if text else "")
        return Outcome(ok=False, status=answer.status_code, error=error)

    def _record(self, claimed: Claimed, outcome: Outcome) -> str | None:
        """Write the outcome; the name of the tally field it counts in (None if moot)."""
        now = self.ctx.now()
        settings = self.ctx.settings
        with unit_of_work(self.ctx.engine) as session:
            repo = DeliveryRepository(session)
            if outcome.ok:
                assert outcome.status is not None
                return (
                    "delivered"
                    if repo.mark_delivered(claimed.delivery_id, outcome.status, now)
                    else None
                )
            attempts = claimed.attempts + 1
            dead = attempts >= settings.webhook_max_attempts
            recorded = repo.mark_failed(
                claimed,
                status=outcome.status,
                error=outcome.error or "failed",
                dead=dead,
                next_attempt_at=now + self.backoff(attempts),
            )
        if not recorded:
            return None
        if dead:
            log.warning(
                "webhook delivery %s dead after %d tries: %s",
                claimed.delivery_id,
                attempts,
                outcome.error,
                extra={"delivery_id": claimed.delivery_id, "event_id": claimed.event.id},
            )
            return "dead"
        log.info(
            "webhook delivery %s failed (try %d): %s",
            claimed.delivery_id,
            attempts,
            outcome.error,
            extra={"delivery_id": claimed.delivery_id, "event_id": claimed.event.id},
        )
        return "retried"


class DeliveryThread:
    """The delivery loop inside `serve`: a background thread that stops with the app."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="webhook-delivery", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        # A round in progress finishes its requests (each bounded by the timeout).
        self.thread.join(timeout=3 * self.ctx.settings.webhook_timeout_seconds + 5)

    def _run(self) -> None:
        try:
            with DeliveryWorker(self.ctx) as worker:
                worker.run(self.stop_event)
        except Exception:
            log.exception("the webhook delivery loop stopped")
