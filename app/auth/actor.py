from dataclasses import dataclass, field
from datetime import datetime

from app.engine.roles import Role


@dataclass(frozen=True)
class Actor:
    """Who is making a request: one organisation acting in one role, and the person acting
    when a person is (signed in, or with a personal token)."""

    org_id: int
    org_slug: str
    role: Role
    token_id: int | None = None
    # When the token was last recorded as used, as read at authentication.
    token_last_used_at: datetime | None = field(default=None, compare=False)
    user_id: int | None = None
    # The person's display name as read at authentication (what the history records).
    user_name: str | None = field(default=None, compare=False)
    # The browser session the request came with, and when it was last recorded as seen.
    session_id: int | None = None
    session_last_seen_at: datetime | None = field(default=None, compare=False)
