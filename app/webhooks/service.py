"""Webhook subscriptions: an organisation registers, reads and removes its endpoints.

Every authenticated role manages its own organisation's subscriptions, and only those:
another organisation's subscription answers 404, like one that does not exist. A
subscription remembers the role of the token that created it, and receives the events of
the cases the organisation may see in that role (`app.access.visible_cases`).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.context import AppContext
from app.core.errors import InvalidInput, NotFound
from app.webhooks import destinations, signing
from app.webhooks.models import WebhookDelivery, WebhookSubscription
from app.webhooks.repository import DeliveryRepository, SubscriptionRepository
from app.webhooks.schemas import DeliveryState, SubscriptionCreate

# The largest id `webhook_deliveries.id` (an INTEGER column) can hold.
MAX_DELIVERY_ID = 2**31 - 1


@dataclass
class DeliveryPageResult:
    items: list[tuple[WebhookDelivery, str]]
    next_cursor: str | None


def create(
    session: Session, ctx: AppContext, actor: Actor, data: SubscriptionCreate
) -> WebhookSubscription:
    if not ctx.settings.webhook_allow_private_hosts:
        refused = destinations.refusal(data.url)
        if refused:
            raise InvalidInput(f"the webhook URL is not allowed: {refused}", {"url": refused})
    subscription = WebhookSubscription(
        id=uuid.uuid4(),
        organisation_id=actor.org_id,
        role=actor.role.value,
        url=data.url,
        event_types=list(data.event_types),
        secret=signing.new_secret(),
        created_at=ctx.now(),
    )
    return SubscriptionRepository(session).add(subscription)


def list_own(session: Session, actor: Actor) -> list[WebhookSubscription]:
    return SubscriptionRepository(session).live_for_org(actor.org_id)


def load(session: Session, actor: Actor, subscription_id: uuid.UUID) -> WebhookSubscription:
    found = SubscriptionRepository(session).live_of_org(subscription_id, actor.org_id)
    if found is None:
        raise NotFound("no such webhook subscription")
    return found


def counts(session: Session, subscription: WebhookSubscription) -> dict[DeliveryState, int]:
    by_state = DeliveryRepository(session).counts([subscription.id])[subscription.id]
    return {DeliveryState(state): n for state, n in by_state.items()}


def remove(session: Session, ctx: AppContext, actor: Actor, subscription_id: uuid.UUID) -> None:
    """Remove a subscription: nothing more is fanned out to it, and what was still pending
    is cancelled in the same transaction."""
    subscription = load(session, actor, subscription_id)
    subscription.deleted_at = ctx.now()
    session.flush()
    DeliveryRepository(session).cancel_pending(subscription.id)


def deliveries(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    subscription_id: uuid.UUID,
    *,
    state: DeliveryState | None,
    cursor: str | None,
    limit: int | None,
) -> DeliveryPageResult:
    """One page of the subscription's deliveries, newest first."""
    subscription = load(session, actor, subscription_id)
    before = None
    if cursor is not None:
        if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:
            raise InvalidInput("invalid cursor", {"cursor": cursor})
        # Every delivery id (a 32-bit column) is below a larger cursor: no bound then.
        before = int(cursor) if int(cursor) <= MAX_DELIVERY_ID else None
    settings = ctx.settings
    size = min(limit or settings.page_size_default, settings.page_size_max)
    rows = DeliveryRepository(session).page(
        subscription.id, state=state.value if state else None, before=before, limit=size
    )
    next_cursor = str(rows[-1][0].id) if len(rows) == size else None
    return DeliveryPageResult(items=rows, next_cursor=next_cursor)


@dataclass
class SubscriptionSummary:
    subscription: WebhookSubscription
    owner: str
    deliveries: dict[str, int]


def overview(session: Session) -> list[SubscriptionSummary]:
    """Every subscription, removed ones too, with its deliveries counted by state (CLI)."""
    subscriptions = SubscriptionRepository(session).all_with_owner()
    counted = DeliveryRepository(session).counts([s.id for s, _ in subscriptions])
    return [SubscriptionSummary(s, owner, counted[s.id]) for s, owner in subscriptions]


def redrive(
    session: Session,
    ctx: AppContext,
    *,
    delivery_id: int | None = None,
    subscription_id: uuid.UUID | None = None,
) -> int:
    """Move dead deliveries (one, a subscription's, or all) back to pending, tries reset;
    the deliveries of removed subscriptions stay dead. Returns how many moved."""
    if subscription_id is not None and SubscriptionRepository(session).get(subscription_id) is None:
        raise NotFound(f"no webhook subscription {subscription_id}")
    moved = DeliveryRepository(session).redrive(
        ctx.now(), delivery_id=delivery_id, subscription_id=subscription_id
    )
    if delivery_id is not None and not moved:
        raise InvalidInput(
            f"delivery {delivery_id} is not dead, or its subscription was removed",
            {"delivery": delivery_id},
        )
    return moved


@dataclass(frozen=True)
class Pruned:
    deliveries: int
    subscriptions: int
    dry_run: bool

    def summary(self) -> str:
        verb = "would forget" if self.dry_run else "forgot"
        return (
            f"{verb} {self.deliveries} finished webhook deliveries and "
            f"{self.subscriptions} removed subscriptions"
        )


def prune(session: Session, *, before: datetime, dry_run: bool = False) -> Pruned:
    """Forget what was over before `before`: deliveries delivered earlier, and subscriptions
    removed earlier, with their secrets and all their deliveries. Pending and dead deliveries
    of live subscriptions are kept, whatever their age."""
    subscriptions = SubscriptionRepository(session)
    removed = subscriptions.removed_before(before)
    deliveries = DeliveryRepository(session)
    if dry_run:
        return Pruned(deliveries.count_finished(before, removed), len(removed), dry_run=True)
    forgotten = deliveries.delete_finished(before, removed)
    return Pruned(forgotten, subscriptions.delete(removed), dry_run=False)
