"""Webhook figures for `/metrics`, read from the database at scrape time (so they are right
whichever process delivers): the queue by state, how long the oldest pending delivery has
waited, and how many events the workers have not fanned out yet."""

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from app.context import AppContext
from app.core.db import unit_of_work
from app.webhooks.delivery import CURSOR
from app.webhooks.repository import DeliveryRepository, OutboxRepository
from app.webhooks.schemas import DeliveryState


class WebhookFigures(Collector):
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterable[GaugeMetricFamily]:
        by_state = GaugeMetricFamily(
            "admission_webhook_deliveries",
            "Webhook deliveries by state (delivered ones within WEBHOOK_RETENTION_DAYS).",
            labels=("state",),
        )
        waiting = GaugeMetricFamily(
            "admission_webhook_oldest_pending_seconds",
            "How long the oldest pending webhook delivery has waited (0 when none is pending).",
        )
        lag = GaugeMetricFamily(
            "admission_webhook_outbox_lag_events",
            "Events recorded but not yet turned into webhook deliveries by a worker.",
        )
        with unit_of_work(self.ctx.engine, write=False) as session:
            deliveries = DeliveryRepository(session)
            totals = deliveries.totals()
            oldest = deliveries.oldest_pending_since()
            outbox = OutboxRepository(session)
            behind = outbox.count_after(outbox.position(CURSOR))
        for state in DeliveryState:
            by_state.add_metric((state.value,), totals.get(state.value, 0))
        age = (self.ctx.now() - oldest).total_seconds() if oldest is not None else 0.0
        waiting.add_metric((), max(age, 0.0))
        lag.add_metric((), behind)
        yield by_state
        yield waiting
        yield lag
