from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class UserRef(BaseModel):
    id: int
    name: str = Field(description="The person's display name when they acted.")


class ActorRef(BaseModel):
    org: str
    role: str
    user: UserRef | None = Field(
        default=None,
        description="The person who acted (signed in, or with a personal token); null for "
        "an organisation's token.",
    )


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
