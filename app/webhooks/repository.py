import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from app.access import visible_cases, visible_events
from app.auth.actor import Actor
from app.auth.models import Organisation
from app.cases.models import Case
from app.engine.roles import Role
from app.engine.workflow import Workflow
from app.events.models import Event
from app.webhooks.models import OutboxCursor, WebhookDelivery, WebhookSubscription
from app.webhooks.schemas import ALL_EVENTS, DeliveryState

PENDING = DeliveryState.PENDING.value


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


class SubscriptionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, subscription: WebhookSubscription) -> WebhookSubscription:
        self.session.add(subscription)
        self.session.flush()
        return subscription

    def live_for_org(self, org_id: int) -> list[WebhookSubscription]:
        return list(
            self.session.scalars(
                select(WebhookSubscription)
                .where(
                    WebhookSubscription.organisation_id == org_id,
                    WebhookSubscription.deleted_at.is_(None),
                )
                .order_by(WebhookSubscription.created_at, WebhookSubscription.id)
            )
        )

    def live_of_org(self, subscription_id: uuid.UUID, org_id: int) -> WebhookSubscription | None:
        """The organisation's subscription, unless it was removed."""
        return self.session.scalar(
            select(WebhookSubscription).where(
                WebhookSubscription.id == subscription_id,
                WebhookSubscription.organisation_id == org_id,
                WebhookSubscription.deleted_at.is_(None),
            )
        )

    def get(self, subscription_id: uuid.UUID) -> WebhookSubscription | None:
        return self.session.get(WebhookSubscription, subscription_id)

    def live_with_owner(self) -> list[tuple[WebhookSubscription, str]]:
        """Every live subscription with its organisation's slug."""
        rows = self.session.execute(
            select(WebhookSubscription, Organisation.slug)
            .join(Organisation, WebhookSubscription.organisation_id == Organisation.id)
            .where(WebhookSubscription.deleted_at.is_(None))
            .order_by(WebhookSubscription.created_at, WebhookSubscription.id)
        ).all()
        return [(row[0], row[1]) for row in rows]

    def all_with_owner(self) -> list[tuple[WebhookSubscription, str]]:
        rows = self.session.execute(
            select(WebhookSubscription, Organisation.slug)
            .join(Organisation, WebhookSubscription.organisation_id == Organisation.id)
            .order_by(WebhookSubscription.created_at, WebhookSubscription.id)
        ).all()
        return [(row[0], row[1]) for row in rows]

    def removed_among(self, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these subscriptions have been removed (or never existed)."""
        wanted = set(ids)
        live = self.session.scalars(
            select(WebhookSubscription.id).where(
                WebhookSubscription.id.in_(wanted), WebhookSubscription.deleted_at.is_(None)
            )
        )
        return wanted - set(live)

    def removed_before(self, before: datetime) -> list[uuid.UUID]:
        return list(
            self.session.scalars(
                select(WebhookSubscription.id).where(WebhookSubscription.deleted_at < before)
            )
        )

    def delete(self, ids: Sequence[uuid.UUID]) -> int:
        if not ids:
            return 0
        return _rowcount(
            self.session.execute(
                delete(WebhookSubscription)
                .where(WebhookSubscription.id.in_(ids))
                .execution_options(synchronize_session=False)
            )
        )


@dataclass(frozen=True)
class Claimed:
    """A delivery a worker holds until `lease`, with what it needs to send it."""

    delivery_id: int
    attempts: int
    lease: datetime
    subscription_id: uuid.UUID
    url: str
    secret: str
    event: Event


class DeliveryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the subscriber's view

    def counts(self, subscription_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
        """Deliveries per state, per subscription."""
        counts: dict[uuid.UUID, dict[str, int]] = {
            s: dict.fromkeys(DeliveryState, 0) for s in subscription_ids
        }
        rows = self.session.execute(
            select(WebhookDelivery.subscription_id, WebhookDelivery.state, func.count())
            .where(WebhookDelivery.subscription_id.in_(subscription_ids))
            .group_by(WebhookDelivery.subscription_id, WebhookDelivery.state)
        ).all()
        for subscription_id, state, count in rows:
            counts[subscription_id][state] = int(count)
        return counts

    def page(
        self,
        subscription_id: uuid.UUID,
        *,
        state: str | None,
        before: int | None,
        limit: int,
    ) -> list[tuple[WebhookDelivery, str]]:
        """Newest first: deliveries of the subscription with their event's type."""
        statement = (
            select(WebhookDelivery, Event.type)
            .join(Event, WebhookDelivery.event_id == Event.id)
            .where(WebhookDelivery.subscription_id == subscription_id)
        )
        if state is not None:
            statement = statement.where(WebhookDelivery.state == state)
        if before is not None:
            statement = statement.where(WebhookDelivery.id < before)
        rows = self.session.execute(
            statement.order_by(WebhookDelivery.id.desc()).limit(limit)
        ).all()
        return [(row[0], row[1]) for row in rows]

    # -- the operator's view

    def totals(self) -> dict[str, int]:
        """Deliveries per state, across subscriptions."""
        rows = self.session.execute(
            select(WebhookDelivery.state, func.count()).group_by(WebhookDelivery.state)
        ).all()
        return {state: int(n) for state, n in rows}

    def oldest_pending_since(self) -> datetime | None:
        return self.session.scalar(
            select(func.min(WebhookDelivery.created_at)).where(WebhookDelivery.state == PENDING)
        )

    def cancel_pending(self, subscription_id: uuid.UUID) -> int:
        return _rowcount(
            self.session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.subscription_id == subscription_id,
                    WebhookDelivery.state == PENDING,
                )
                .values(state=DeliveryState.CANCELLED.value, locked_until=None)
                .execution_options(synchronize_session=False)
            )
        )

    def finished(
        self, delivered_before: datetime, subscriptions: Sequence[uuid.UUID]
    ) -> Select[Any]:
        """Deliveries nobody needs any more: delivered before the cut-off, or belonging to one
        of these (removed) subscriptions."""
        return select(WebhookDelivery.id).where(
            or_(
                and_(
                    WebhookDelivery.state == DeliveryState.DELIVERED.value,
                    WebhookDelivery.delivered_at < delivered_before,
                ),
                WebhookDelivery.subscription_id.in_(subscriptions),
            )
        )

    def count_finished(self, delivered_before: datetime, subscriptions: Sequence[uuid.UUID]) -> int:
        found = self.finished(delivered_before, subscriptions).subquery()
        return int(self.session.scalar(select(func.count()).select_from(found)) or 0)

    def delete_finished(
        self, delivered_before: datetime, subscriptions: Sequence[uuid.UUID]
    ) -> int:
        ids = self.finished(delivered_before, subscriptions).scalar_subquery()
        return _rowcount(
            self.session.execute(
                delete(WebhookDelivery)
                .where(WebhookDelivery.id.in_(ids))
                .execution_options(synchronize_session=False)
            )
        )

    # -- the worker's queue

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.session.execute(insert(WebhookDelivery), rows)

    def _due(self, now: datetime) -> ColumnElement[bool]:
        older = aliased(WebhookDelivery)
        return (
            (WebhookDelivery.state == PENDING)
            & (WebhookDelivery.next_attempt_at <= now)
            & or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now)
            # Per-case order: an event waits while an older one of its case is pending
            # for the same subscription (being sent, or waiting for its retry).
            & ~exists(
                select(older.id).where(
                    older.subscription_id == WebhookDelivery.subscription_id,
                    older.case_id == WebhookDelivery.case_id,
                    older.event_id < WebhookDelivery.event_id,
                    older.state == PENDING,
                )
            )
        )

    def any_due(self, now: datetime) -> bool:
        return bool(self.session.scalar(select(exists().where(self._due(now)))))

    def claim(self, now: datetime, lease: datetime, limit: int) -> list[Claimed]:
        """Take up to `limit` due deliveries, oldest event first, until `lease`.

        On PostgreSQL the rows another worker is taking right now are skipped (`FOR UPDATE
        SKIP LOCKED`); SQLite runs one writer at a time. A batch holds at most one delivery
        per subscription and case, so its deliveries may be sent in parallel.
        """
        rows = self.session.execute(
            select(WebhookDelivery, WebhookSubscription.url, WebhookSubscription.secret, Event)
            .join(WebhookSubscription, WebhookDelivery.subscription_id == WebhookSubscription.id)
            .join(Event, WebhookDelivery.event_id == Event.id)
            .where(self._due(now))
            .order_by(WebhookDelivery.event_id, WebhookDelivery.id)
            .limit(limit)
            .with_for_update(of=WebhookDelivery, skip_locked=True)
        ).all()
        claimed: list[Claimed] = []
        for delivery, url, secret, event in rows:
            delivery.locked_until = lease
            claimed.append(
                Claimed(
                    delivery_id=delivery.id,
                    attempts=delivery.attempts,
                    lease=lease,
                    subscription_id=delivery.subscription_id,
                    url=url,
                    secret=secret,
                    event=event,
                )
            )
        self.session.flush()
        return claimed

    def mark_delivered(self, delivery_id: int, status: int, now: datetime) -> bool:
        """Record a 2xx answer (whoever holds the lease now: the receiver has the event)."""
        return bool(
            _rowcount(
                self.session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id == delivery_id, WebhookDelivery.state == PENDING)
                    .values(
                        state=DeliveryState.DELIVERED.value,
                        attempts=WebhookDelivery.attempts + 1,
                        delivered_at=now,
                        last_status=status,
                        last_error=None,
                        locked_until=None,
                    )
                    .execution_options(synchronize_session=False)
                )
            )
        )

    def mark_failed(
        self,
        claimed: Claimed,
        *,
        status: int | None,
        error: str,
        dead: bool,
        next_attempt_at: datetime,
    ) -> bool:
        """Record a failed try, unless the lease passed to another worker meanwhile."""
        values: dict[str, Any] = {
            "attempts": claimed.attempts + 1,
            "last_status": status,
            "last_error": error,
            "locked_until": None,
        }
        if dead:
            values["state"] = DeliveryState.DEAD.value
        else:
            values["next_attempt_at"] = next_attempt_at
        return bool(
            _rowcount(
                self.session.execute(
                    update(WebhookDelivery)
                    .where(
                        WebhookDelivery.id == claimed.delivery_id,
                        WebhookDelivery.state == PENDING,
                        WebhookDelivery.locked_until == claimed.lease,
                    )
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
            )
        )

    def cancel(self, delivery_ids: Sequence[int]) -> int:
        return _rowcount(
            self.session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(delivery_ids), WebhookDelivery.state == PENDING)
                .values(state=DeliveryState.CANCELLED.value, locked_until=None)
                .execution_options(synchronize_session=False)
            )
        )

    def redrive(
        self,
        now: datetime,
        *,
        delivery_id: int | None = None,
        subscription_id: uuid.UUID | None = None,
    ) -> int:
        """Dead deliveries of live subscriptions back to pending, due now, tries reset."""
        live = select(WebhookSubscription.id).where(WebhookSubscription.deleted_at.is_(None))
        condition: ColumnElement[bool] = true()
        if delivery_id is not None:
            condition = WebhookDelivery.id == delivery_id
        elif subscription_id is not None:
            condition = WebhookDelivery.subscription_id == subscription_id
        return _rowcount(
            self.session.execute(
                update(WebhookDelivery)
                .where(
                    condition,
                    WebhookDelivery.state == DeliveryState.DEAD.value,
                    WebhookDelivery.subscription_id.in_(live),
                )
                .values(
                    state=PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    locked_until=None,
                )
                .execution_options(synchronize_session=False)
            )
        )


class OutboxRepository:
    """The events not yet fanned out to subscriptions, and how far fan-out has got."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def position(self, name: str) -> int:
        found = self.session.scalar(
            select(OutboxCursor.last_event_id).where(OutboxCursor.name == name)
        )
        return int(found or 0)

    def latest_event_id(self) -> int:
        return int(self.session.scalar(select(func.max(Event.id))) or 0)

    def count_after(self, cursor: int) -> int:
        return int(
            self.session.scalar(select(func.count()).select_from(Event).where(Event.id > cursor))
            or 0
        )

    def lock_cursor(self, name: str) -> OutboxCursor | None:
        """The cursor row, held until the transaction ends; None while another worker has it.

        The row is created on first use (`ON CONFLICT DO NOTHING`, so two workers starting
        together do not fail on each other).
        """
        cursor = self._try_lock(name)
        if cursor is None:
            exists_already = self.session.scalar(
                select(OutboxCursor.name).where(OutboxCursor.name == name)
            )
            if exists_already is not None:
                return None
            dialect = self.session.get_bind().dialect.name
            builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
            self.session.execute(
                builder(OutboxCursor)
                .values(name=name, last_event_id=0)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            cursor = self._try_lock(name)
        return cursor

    def _try_lock(self, name: str) -> OutboxCursor | None:
        return self.session.scalar(
            select(OutboxCursor)
            .where(OutboxCursor.name == name)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )

    def event_ids_after(self, cursor: int, limit: int) -> list[int]:
        return list(
            self.session.scalars(
                select(Event.id).where(Event.id > cursor).order_by(Event.id).limit(limit)
            )
        )

    def matching(
        self,
        subscription: WebhookSubscription,
        owner_slug: str,
        workflows: Iterable[Workflow],
        first: int,
        last: int,
    ) -> list[tuple[int, uuid.UUID]]:
        """(event id, case id) of the events in [first, last] the subscription receives:
        of a type it asked for, on a case its organisation and role may see, one they may
        read (as the feed shows it to them), and not older than the subscription itself."""
        actor = Actor(
            org_id=subscription.organisation_id, org_slug=owner_slug, role=Role(subscription.role)
        )
        statement = (
            select(Event.id, Event.case_id)
            .join(Case, Event.case_id == Case.id)
            .where(
                Event.id >= first,
                Event.id <= last,
                Event.at >= subscription.created_at,
                visible_cases(actor),
                visible_events(actor, workflows),
            )
        )
        if ALL_EVENTS not in subscription.event_types:
            statement = statement.where(Event.type.in_(subscription.event_types))
        rows = self.session.execute(statement.order_by(Event.id)).all()
        return [(int(row[0]), row[1]) for row in rows]
