import re
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Literal, get_args

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
    "case.workflow_migrated",
    "document.uploaded",
    "document.reviewed",
    "consultation.answered",
    "consultation.extended",
]
EVENT_TYPES: tuple[str, ...] = tuple(t for t in get_args(EventType) if t != ALL_EVENTS)


# A webhook URL, as the OpenAPI document publishes it and the server checks it: http or https,
# a host (a name, an IPv4 address or a bracketed IPv6 address, as RFC 3986 spells them), an
# optional port up to 65535, then printable ASCII without spaces. Whether the host may be
# reached (public addresses only, by default) is judged when it is registered.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_H16 = r"[0-9A-Fa-f]{1,4}"
_LS32 = rf"(?:{_H16}:{_H16}|{_IPV4})"
_IPV6 = "|".join(
    [
        rf"(?:{_H16}:){{6}}{_LS32}",
        rf"::(?:{_H16}:){{5}}{_LS32}",
        rf"(?:{_H16})?::(?:{_H16}:){{4}}{_LS32}",
        rf"(?:(?:{_H16}:){{0,1}}{_H16})?::(?:{_H16}:){{3}}{_LS32}",
        rf"(?:(?:{_H16}:){{0,2}}{_H16})?::(?:{_H16}:){{2}}{_LS32}",
        rf"(?:(?:{_H16}:){{0,3}}{_H16})?::{_H16}:{_LS32}",
        rf"(?:(?:{_H16}:){{0,4}}{_H16})?::{_LS32}",
        rf"(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}",
        rf"(?:(?:{_H16}:){{0,6}}{_H16})?::",
    ]
)
# A name has a label that is not all digits: four numbers are an IPv4 address or nothing.
_LABEL = r"[A-Za-z0-9-]+"
_NAME = rf"(?:{_LABEL}\.)*[0-9]*[A-Za-z-][A-Za-z0-9-]*(?:\.{_LABEL})*\.?"
_PORT = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
WEBHOOK_URL_PATTERN = (
    rf"^[Hh][Tt][Tt][Pp][Ss]?://(?:{_IPV4}|\[(?:{_IPV6})\]|{_NAME})(?::{_PORT})?(?:[/?#][!-~]*)?$"
)
_WEBHOOK_URL = re.compile(WEBHOOK_URL_PATTERN)


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"
    CANCELLED = "cancelled"


class SubscriptionCreate(RequestModel):
    url: str = Field(
        max_length=2000,
        # Checked by `_http_url`, whose message is shorter than the pattern.
        json_schema_extra={"pattern": WEBHOOK_URL_PATTERN},
        description="Where deliveries are POSTed: an http or https URL with a host (a name, "
        "an IPv4 address or a bracketed IPv6 address), an optional port up to 65535, then "
        "printable ASCII without spaces.",
    )
    event_types: list[EventType] = Field(
        min_length=1,
        max_length=20,
        description='The event types to deliver; `["*"]` for all of them.',
    )

    @field_validator("url", mode="before")
    @classmethod
    def _http_url(cls, value: object) -> object:
        # Judged as sent, before anything is stripped: a URL with spaces around is not one.
        if isinstance(value, str) and not _WEBHOOK_URL.fullmatch(value):
            raise ValueError(
                "an http:// or https:// URL with a host, an optional port up to 65535 and "
                "no spaces or characters outside printable ASCII is required"
            )
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
