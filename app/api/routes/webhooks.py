import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.deps import Context, CurrentActor, DbSession
from app.core.cursors import SERIAL, anchored
from app.webhooks import service
from app.webhooks.models import WebhookDelivery, WebhookSubscription
from app.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    DeliveryState,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionDetail,
    SubscriptionList,
    SubscriptionOut,
)

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
SERIAL_CURSOR = anchored(SERIAL)


def _out(s: WebhookSubscription) -> SubscriptionOut:
    return SubscriptionOut(
        id=s.id, url=s.url, event_types=s.event_types, role=s.role, created_at=s.created_at
    )


def _delivery(d: WebhookDelivery, event_type: str) -> DeliveryOut:
    return DeliveryOut(
        id=d.id,
        event_id=d.event_id,
        event_type=event_type,
        case_id=d.case_id,
        state=DeliveryState(d.state),
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at if d.state == DeliveryState.PENDING else None,
        last_status=d.last_status,
        last_error=d.last_error,
        delivered_at=d.delivered_at,
        created_at=d.created_at,
    )


@router.post("", status_code=201)
def create_subscription(
    body: SubscriptionCreate,
    session: DbSession,
    ctx: Context,
    actor: CurrentActor,
    response: Response,
) -> SubscriptionCreated:
    """Register an endpoint for event types; the answer shows its signing secret, once."""
    created = service.create(session, ctx, actor, body)
    response.headers["Location"] = f"{router.prefix}/{created.id}"
    return SubscriptionCreated(**_out(created).model_dump(), secret=created.secret)


@router.get("")
def list_subscriptions(session: DbSession, actor: CurrentActor) -> SubscriptionList:
    """The caller's organisation's subscriptions (secrets are never shown again)."""
    return SubscriptionList(items=[_out(s) for s in service.list_own(session, actor)])


@router.get("/{subscription_id}")
def read_subscription(
    subscription_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> SubscriptionDetail:
    """One subscription, with how many deliveries are in each state."""
    found = service.load(session, actor, subscription_id)
    return SubscriptionDetail(**_out(found).model_dump(), deliveries=service.counts(session, found))


@router.delete("/{subscription_id}", status_code=204, response_class=Response)
def delete_subscription(
    subscription_id: uuid.UUID, session: DbSession, ctx: Context, actor: CurrentActor
) -> Response:
    """Remove a subscription; its pending deliveries are cancelled and nothing more is sent."""
    service.remove(session, ctx, actor, subscription_id)
    return Response(status_code=204)


@router.get("/{subscription_id}/deliveries")
def list_deliveries(
    subscription_id: uuid.UUID,
    session: DbSession,
    ctx: Context,
    actor: CurrentActor,
    state: DeliveryState | None = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: Annotated[
        str | None,
        Query(pattern=SERIAL_CURSOR, description="The `next_cursor` of the last page."),
    ] = None,
) -> DeliveryPage:
    """The subscription's deliveries, newest first: state, tries and the last answer."""
    page = service.deliveries(
        session, ctx, actor, subscription_id, state=state, cursor=cursor, limit=limit
    )
    return DeliveryPage(
        items=[_delivery(d, event_type) for d, event_type in page.items],
        next_cursor=page.next_cursor,
    )
