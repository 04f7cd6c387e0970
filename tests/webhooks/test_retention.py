"""`admission gc` forgets webhook deliveries that are over, and removed subscriptions (with
their secrets), once `WEBHOOK_RETENTION_DAYS` have passed; what may still be sent stays."""

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from app.context import AppContext
from app.core.db import unit_of_work
from app.core.models import utcnow
from app.webhooks.delivery import fan_out
from app.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.factories import Api
from tests.webhooks.conftest import admission, subscribe

OLD = timedelta(days=40)
RECENT = timedelta(days=1)


def set_deliveries(ctx: AppContext, subscription: str, states: list[tuple[str, Any]]) -> None:
    """Give the subscription's deliveries, oldest event first, these states and ages."""
    now = utcnow()
    with unit_of_work(ctx.engine) as session:
        ids = session.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.subscription_id == uuid.UUID(subscription))
            .order_by(WebhookDelivery.event_id)
        ).all()
        assert len(ids) == len(states)
        for delivery_id, (state, ago) in zip(ids, states, strict=True):
            delivered_at = now - ago if state == "delivered" else None
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id)
                .values(state=state, delivered_at=delivered_at)
            )


def removed(ctx: AppContext, subscription: str, ago: timedelta) -> None:
    with unit_of_work(ctx.engine) as session:
        session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == uuid.UUID(subscription))
            .values(deleted_at=utcnow() - ago)
        )


def left(ctx: AppContext) -> tuple[dict[str, int], set[str]]:
    """Deliveries per subscription, and the subscriptions there are."""
    with unit_of_work(ctx.engine, write=False) as session:
        counted = session.execute(
            select(WebhookDelivery.subscription_id, func.count()).group_by(
                WebhookDelivery.subscription_id
            )
        ).all()
        subscriptions = set(session.scalars(select(WebhookSubscription.id)))
    return {str(s): n for s, n in counted}, {str(s) for s in subscriptions}


class TestRetention:
    def test_old_finished_deliveries_and_long_removed_subscriptions_go_the_rest_stays(
        self, api: Api, ctx: AppContext
    ) -> None:
        live, gone, lately = (
            subscribe(api, "applicant", f"http://127.0.0.1:9/{name}")["id"]
            for name in ("live", "gone", "lately")
        )
        for _ in range(4):
            api.create_case()
        assert fan_out(ctx)[1] == 12
        set_deliveries(
            ctx,
            live,
            [("delivered", OLD), ("delivered", RECENT), ("dead", None), ("pending", None)],
        )
        set_deliveries(
            ctx,
            gone,
            [("cancelled", None), ("cancelled", None), ("delivered", OLD), ("dead", None)],
        )
        set_deliveries(ctx, lately, [("cancelled", None)] * 3 + [("delivered", OLD)])
        removed(ctx, gone, OLD)
        removed(ctx, lately, RECENT)
        before = left(ctx)
        assert before == ({live: 4, gone: 4, lately: 4}, {live, gone, lately})

        dry = admission(ctx, "gc", "--dry-run")

        assert dry.exit_code == 0, dry.output
        assert dry.output.splitlines()[-1].endswith(
            "; would forget 6 finished webhook deliveries and 1 removed subscriptions"
        )
        assert left(ctx) == before

        done = admission(ctx, "gc")

        assert done.exit_code == 0, done.output
        assert done.output.splitlines()[-1].endswith(
            "; forgot 6 finished webhook deliveries and 1 removed subscriptions"
        )
        # Kept: the live subscription's recent, dead and pending deliveries; the recently
        # removed one whole, but for its long-delivered one.
        assert left(ctx) == ({live: 3, lately: 3}, {live, lately})
        counts = api.client.get(
            f"/api/v1/webhooks/{live}", headers=api.headers("applicant")
        ).json()["deliveries"]
        assert counts == {"pending": 1, "delivered": 1, "dead": 1, "cancelled": 0}

        again = admission(ctx, "gc")
        assert again.output.splitlines()[-1].endswith(
            "; forgot 0 finished webhook deliveries and 0 removed subscriptions"
        )

    def test_the_retention_time_is_configurable(self, api: Api, ctx: AppContext) -> None:
        sub = subscribe(api, "applicant", "http://127.0.0.1:9/hook")["id"]
        api.create_case()
        fan_out(ctx)
        set_deliveries(ctx, sub, [("delivered", timedelta(days=3))])

        kept = admission(ctx, "gc")
        assert kept.output.splitlines()[-1].endswith(
            "; forgot 0 finished webhook deliveries and 0 removed subscriptions"
        )

        sooner = admission(ctx, "gc", env={"WEBHOOK_RETENTION_DAYS": "2"})
        assert sooner.output.splitlines()[-1].endswith(
            "; forgot 1 finished webhook deliveries and 0 removed subscriptions"
        )
        assert left(ctx) == ({}, {sub})
