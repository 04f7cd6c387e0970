import uuid
from datetime import datetime
from enum import StrEnum
from typing import Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator

from app.core.schemas import RequestModel

ALL_EVENTS = "*"
# Every event type the service emits (the callers of `app.events.service.emit`), or "*".
EventType = Literal[
    "*",
    "case.created",
    "case.updated",
    "case.transitioned",
    "case.overdue",
    "case.imported",
    "document.uploaded",
    "consultation.answered",
    "consultation.extended",
]
EVENT_TYPES: tuple[str, ...] = tuple(t for t in get_args(EventType) if t != ALL_EVENTS)


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"
    CANCELLED = "cancelled"


class SubscriptionCreate(RequestModel):
    url: str = Field(
        min_length=1,
        max_length=2000,
        description="Where deliveries are POSTed: an http or https URL with a host.",
    )
    event_types: list[EventType] = Field(
        min_length=1,
        max_length=20,
        description='The event types to deliver; `["*"]` for all of them.',
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError("a URL has no spaces or control characters")
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises on a port that is not a number in range
        except ValueError:
            raise ValueError("not a URL") from None
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValueError("an http:// or https:// URL with a host is required")
        return value

    @field_validator("event_types")
    @classmethod
    def _normalise(cls, value: list[str]) -> list[str]:
        if ALL_EVENTS in value:
            return [ALL_EVENTS]
        return sorted(set(value))


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    url: str
    event_types: list[str]
    role: str = Field(
        description="The role of the token that created it: the events delivered are those "
        "of the cases the organisation may see in that role."
    )
    created_at: datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(
        description="Signs every delivery (Standard Webhooks, HMAC-SHA256). Shown only here."
    )


class SubscriptionDetail(SubscriptionOut):
    deliveries: dict[DeliveryState, int] = Field(description="How many deliveries per state.")


class SubscriptionList(BaseModel):
    items: list[SubscriptionOut]


class DeliveryOut(BaseModel):
    id: int
    event_id: int
    event_type: str
    case_id: uuid.UUID
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None = Field(description="When it is tried next, while pending.")
    last_status: int | None = Field(description="The receiver's last HTTP status, if any.")
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
