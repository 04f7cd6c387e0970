from dataclasses import dataclass, field
from datetime import datetime

from app.engine.roles import Role


@dataclass(frozen=True)
class Actor:
    """Who is making a request: one organisation acting in one role."""

    org_id: int
    org_slug: str
    role: Role
    token_id: int | None = None
    # When the token was last recorded as used, as read at authentication.
    token_last_used_at: datetime | None = field(default=None, compare=False)
