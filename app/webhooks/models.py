import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, UTCDateTime, utcnow
from app.history.models import JSONType


class WebhookSubscription(Base):
    """An organisation's endpoint for the events of the cases it may see.

    Events are matched as the subscribing token saw them: its organisation and role.
    """

    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(String(2000))
    # Event types delivered; ["*"] for all.
    event_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Signs each delivery (HMAC-SHA256); shown to the subscriber once, at creation.
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the subscription is removed: nothing more is sent.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """One event owed to one subscription: pending, delivered, dead (tries used up) or
    cancelled (subscription removed)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        # The worker's queue: due, pending deliveries, oldest event first.
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        # Per-case order: is an older delivery of the same case still pending?
        Index("ix_webhook_deliveries_case_order", "subscription_id", "case_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("webhook_subscriptions.id"))
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("events.id"))
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A worker that took the delivery holds it until then; after a crash it is retried.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxCursor(Base):
    """How far the worker has fanned events out into deliveries (one row per consumer)."""

    __tablename__ = "outbox_cursors"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
