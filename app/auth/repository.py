from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from app.auth.models import ApiToken, Organisation, RecoveryCode, User, UserSession


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
    # A personal token's person: read on every use, so that disabling them stops it at once.
    user_id: int | None
    user_name: str | None
    user_disabled_at: datetime | None


_BY_HASH = (
    select(
        ApiToken.id,
        ApiToken.role,
        ApiToken.revoked_at,
        ApiToken.expires_at,
        ApiToken.last_used_at,
        Organisation.id.label("org_id"),
        Organisation.slug.label("org_slug"),
        User.id.label("user_id"),
        User.display_name.label("user_name"),
        User.disabled_at.label("user_disabled_at"),
    )
    .join(Organisation, ApiToken.organisation_id == Organisation.id)
    .outerjoin(User, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


def grant_by_hash(connection: Connection, token_hash: str) -> TokenGrant | None:
    """What authenticating needs of the token and its organisation, from one plain row
    (read on every request: a Core statement, no ORM objects to build)."""
    row = connection.execute(_BY_HASH, {"token_hash": token_hash}).first()
    return TokenGrant._make(row) if row is not None else None


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


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_email(self, email: str) -> User | None:
        return self.session.scalar(select(User).where(User.email_key == email_key(email)))

    def by_id(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def add(self, user: User) -> User:
        self.session.add(user)
        self.session.flush()
        return user

    def for_org(self, org_id: int) -> list[User]:
        return list(
            self.session.scalars(
                select(User).where(User.organisation_id == org_id).order_by(User.email_key)
            )
        )

    def revoke_sessions(self, user_id: int, at: datetime) -> int:
        result = self.session.execute(
            update(UserSession)
            .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def replace_recovery_codes(self, user_id: int, hashes: list[str]) -> None:
        self.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
        self.session.add_all(RecoveryCode(user_id=user_id, code_hash=h) for h in hashes)
        self.session.flush()

    def use_recovery_code(self, user_id: int, code_hash: str, at: datetime) -> bool:
        """Spend the code if it is the user's and unused; whether it was."""
        result = self.session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user_id,
                RecoveryCode.code_hash == code_hash,
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def email_key(email: str) -> str:
    """The form of an e-mail address that identifies an account: trimmed, lower case."""
    return email.strip().lower()


class SessionGrant(NamedTuple):
    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    user_id: int
    user_name: str
    role: str
    must_change_password: bool
    user_disabled_at: datetime | None
    org_id: int
    org_slug: str


_SESSION_BY_HASH = (
    select(
        UserSession.id,
        UserSession.created_at,
        UserSession.last_seen_at,
        UserSession.expires_at,
        UserSession.revoked_at,
        User.id.label("user_id"),
        User.display_name.label("user_name"),
        User.role,
        User.must_change_password,
        User.disabled_at.label("user_disabled_at"),
        Organisation.id.label("org_id"),
        Organisation.slug.label("org_slug"),
    )
    .join(User, UserSession.user_id == User.id)
    .join(Organisation, User.organisation_id == Organisation.id)
    .where(UserSession.token_hash == bindparam("token_hash"))
)


class SessionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_hash(self, token_hash: str) -> SessionGrant | None:
        """What authenticating needs of a browser session, its person and organisation."""
        row = self.session.execute(_SESSION_BY_HASH, {"token_hash": token_hash}).first()
        return SessionGrant._make(row) if row is not None else None

    def add(self, user_session: UserSession) -> UserSession:
        self.session.add(user_session)
        self.session.flush()
        return user_session

    def revoke_by_hash(self, token_hash: str, at: datetime) -> bool:
        result = self.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == token_hash, UserSession.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def touch(self, session_id: int, at: datetime, *, unless_since: datetime) -> None:
        self.session.execute(
            update(UserSession)
            .where(UserSession.id == session_id, UserSession.last_seen_at < unless_since)
            .values(last_seen_at=at)
        )


def organisations_of_kind(session: Session, kind: str) -> list[Organisation]:
    return list(
        session.scalars(
            select(Organisation).where(Organisation.kind == kind).order_by(Organisation.slug)
        )
    )
