from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ActorRef(BaseModel):
    org: str
    role: str


class HistoryEntryOut(BaseModel):
    seq: int
    action: str
    from_state: str | None
    to_state: str
    actor: ActorRef
    at: datetime
    comment: str | None
    reason: str | None
    fields: dict[str, Any]
    prev_hash: str
    hash: str
    redacted: bool = Field(
        default=False,
        description=(
            "Fields were narrowed for this reader: a consulted ministry does not see the other"
            " ministries consulted. The hash covers the stored entry; `verify` checks it."
        ),
    )


class HistoryOut(BaseModel):
    items: list[HistoryEntryOut]


class VerificationOut(BaseModel):
    valid: bool
    entries: int
    first_bad_seq: int | None
