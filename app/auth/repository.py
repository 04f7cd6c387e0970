from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, or_, select, update
from sqlalchemy.orm import Session

from app.auth.models import ApiToken, Organisation


class OrganisationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_slug(self, slug: str) -> Organisation | None:
        return self.session.scalar(select(Organisation).where(Organisation.slug == slug))

    def by_slugs(self, slugs: list[str]) -> list[Organisation]:
        return list(self.session.scalars(select(Organisation).where(Organisation.slug.in_(slugs))))

    def by_id(self, org_id: int) -> Organisation | None:
        return self.session.get(Organisation, org_id)

    def add(self, org: Organisation) -> Organisation:
        self.session.add(org)
        self.session.flush()
        return org


class TokenGrant(NamedTuple):
    id: int
    role: str
    revoked_at: datetime | None
    expires_at: datetime | None
    last_used_at: datetime | None
    org_id: int
    org_slug: str


_BY_HASH = (
    select(
        ApiToken.id,
        ApiToken.role,
        ApiToken.revoked_at,
        ApiToken.expires_at,
        ApiToken.last_used_at,
        Organisation.id.label("org_id"),
        Organisation.slug.label("org_slug"),
    )
    .join(Organisation, ApiToken.organisation_id == Organisation.id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


def grant_by_hash(connection: Connection, token_hash: str) -> TokenGrant | None:
    """What authenticating needs of the token and its organisation, from one plain row
    (read on every request: a Core statement, no ORM objects to build)."""
    row = connection.execute(_BY_HASH, {"token_hash": token_hash}).first()
    return TokenGrant(*row) if row is not None else None


class TokenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_hash(self, token_hash: str) -> TokenGrant | None:
        return grant_by_hash(self.session.connection(), token_hash)

    def add(self, token: ApiToken) -> ApiToken:
        self.session.add(token)
        self.session.flush()
        return token

    def touch(self, token_id: int, at: datetime, *, unless_since: datetime | None = None) -> None:
        """Record a use; with `unless_since`, only if none was recorded since that time."""
        statement = update(ApiToken).where(ApiToken.id == token_id)
        if unless_since is not None:
            statement = statement.where(
                or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < unless_since)
            )
        self.session.execute(statement.values(last_used_at=at))

    def revoke(self, token_id: int, at: datetime) -> bool:
        result = self.session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def by_prefix(self, prefix: str) -> list[ApiToken]:
        return list(self.session.scalars(select(ApiToken).where(ApiToken.prefix == prefix)))

    def for_org(self, org_id: int) -> list[ApiToken]:
        return list(
            self.session.scalars(
                select(ApiToken).where(ApiToken.organisation_id == org_id).order_by(ApiToken.id)
            )
        )
