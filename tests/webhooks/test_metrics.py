"""`/metrics` shows the webhook queue as the database has it: deliveries by state, the wait of
the oldest pending one, and the events no worker has fanned out yet."""

import re
from pathlib import Path

from app.context import AppContext
from app.webhooks.delivery import DeliveryWorker
from tests.factories import Api, Clock
from tests.webhooks.conftest import Receiver, subscribe


def figures(api: Api) -> dict[str, float]:
    text = api.client.get("/metrics").text
    found = re.findall(r"^(admission_webhook_\w+(?:\{[^}]*\})?) (\S+)$", text, re.MULTILINE)
    return {name: float(value) for name, value in found}


def gauges(pending: int, delivered: int, dead: int, cancelled: int) -> dict[str, float]:
    return {
        'admission_webhook_deliveries{state="pending"}': pending,
        'admission_webhook_deliveries{state="delivered"}': delivered,
        'admission_webhook_deliveries{state="dead"}': dead,
        'admission_webhook_deliveries{state="cancelled"}': cancelled,
    }


class TestWebhookMetrics:
    def test_lag_then_a_waiting_queue_then_an_empty_one(
        self, api: Api, ctx: AppContext, receivers: list[Receiver], tmp_path: Path
    ) -> None:
        clock = Clock(ctx.now())
        ctx.clock = clock
        assert figures(api) == {
            **gauges(0, 0, 0, 0),
            "admission_webhook_oldest_pending_seconds": 0.0,
            "admission_webhook_outbox_lag_events": 0.0,
        }
        receiver = Receiver(tmp_path, [], mode="always")
        sub = subscribe(api, "applicant", receiver.url())
        receiver.secrets = [sub["secret"]]
        receivers.append(receiver.start())
        for _ in range(3):
            api.create_case()
        assert figures(api)["admission_webhook_outbox_lag_events"] == 3.0

        # The receiver refuses: the three wait, the oldest for as long as the clock has moved.
        with DeliveryWorker(ctx, batch=10) as worker:
            assert worker.run_once().retried == 3
            clock.advance(seconds=90)
            seen = figures(api)
            assert seen["admission_webhook_outbox_lag_events"] == 0.0
            assert {k: v for k, v in seen.items() if "deliveries" in k} == gauges(3, 0, 0, 0)
            assert 90 <= seen["admission_webhook_oldest_pending_seconds"] < 120

            receiver.kill()
            receiver.start(mode="never")
            clock.advance(seconds=3600)
            assert worker.drain().delivered == 3

        assert figures(api) == {
            **gauges(0, 3, 0, 0),
            "admission_webhook_oldest_pending_seconds": 0.0,
            "admission_webhook_outbox_lag_events": 0.0,
        }
