from dataclasses import dataclass

from app.engine.roles import Role


@dataclass(frozen=True)
class Actor:
    """Who is making a request: one organisation acting in one role."""

    org_id: int
    org_slug: str
    role: Role
    token_id: int | None = None
