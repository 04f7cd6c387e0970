"""Organisations and their tokens; turning a bearer token into an `Actor`."""

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.auth.models import ApiToken, Organisation
from app.auth.repository import (
    OrganisationRepository,
    SessionRepository,
    TokenGrant,
    TokenRepository,
)
from app.auth.tokens import display_prefix, hash_token, new_token
from app.core.db import writer_bind
from app.core.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from app.core.models import utcnow
from app.engine.roles import ROLE_HOLDERS, OrgKind, Role

log = logging.getLogger("admission.auth")

# `last_used_at` is rewritten at most this often per token, so reads stay reads.
USE_RECORD_INTERVAL = timedelta(minutes=1)
RECORD_USE_WAIT_MS = 100
# As long as `cases.province` and `organisations.province` hold.
PROVINCE_MAX_LENGTH = 100


def create_organisation(
    session: Session, *, slug: str, name: str, kind: str, province: str | None = None
) -> Organisation:
    """Register an organisation; an applicant (`province` kind) one names its province."""
    try:
        org_kind = OrgKind(kind)
    except ValueError:
        raise InvalidInput(
            f"unknown organisation kind {kind!r}", {"kind": [k.value for k in OrgKind]}
        ) from None
    province = _province_for(org_kind, province)
    repo = OrganisationRepository(session)
    if repo.by_slug(slug) is not None:
        raise Conflict(f"organisation {slug!r} already exists")
    return repo.add(Organisation(slug=slug, name=name, kind=org_kind.value, province=province))


def set_province(session: Session, *, slug: str, province: str) -> Organisation:
    """Record the province of an existing applicant organisation; its new dossiers take it."""
    org = OrganisationRepository(session).by_slug(slug)
    if org is None:
        raise NotFound(f"no organisation {slug!r}")
    org.province = _province_for(OrgKind(org.kind), province)
    session.flush()
    return org


def _province_for(kind: OrgKind, province: str | None) -> str | None:
    name = " ".join(province.split()) if province else None
    if kind is OrgKind.PROVINCE:
        if not name:
            raise InvalidInput(
                "an applicant province organisation needs its province (--province)",
                {"province": "required"},
            )
        if len(name) > PROVINCE_MAX_LENGTH:
            raise InvalidInput(
                f"a province name has at most {PROVINCE_MAX_LENGTH} characters",
                {"province": "too long"},
            )
        return name
    if name:
        raise InvalidInput(
            f"only a province organisation has a province, not a {kind.value} one",
            {"province": "not accepted for this kind"},
        )
    return None


def issue_token(
    session: Session,
    *,
    org_slug: str,
    role: str,
    label: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its clear text, which is never stored."""
    org = OrganisationRepository(session).by_slug(org_slug)
    if org is None:
        raise NotFound(f"no organisation {org_slug!r}")
    try:
        token_role = Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role {role!r}", {"role": [r.value for r in Role]}) from None
    if OrgKind(org.kind) not in ROLE_HOLDERS[token_role]:
        allowed = sorted(k.value for k in ROLE_HOLDERS[token_role])
        raise InvalidInput(
            f"a {org.kind} organisation cannot hold the {role} role", {"kinds": allowed}
        )
    clear = new_token()
    token = ApiToken(
        organisation_id=org.id,
        role=token_role.value,
        token_hash=hash_token(clear),
        prefix=display_prefix(clear),
        label=label,
        expires_at=expires_at,
    )
    return TokenRepository(session).add(token), clear


def authenticate(session: Session, bearer: str) -> Actor:
    return actor_of_grant(TokenRepository(session).by_hash(hash_token(bearer)))


def actor_of_grant(token: TokenGrant | None) -> Actor:
    """The actor a looked-up token stands for; Unauthenticated when there is none, or when it
    is revoked or expired."""
    if token is None:
        raise Unauthenticated("invalid token")
    now = utcnow()
    if token.revoked_at is not None:
        raise Unauthenticated("token revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthenticated("token expired")
    if token.user_disabled_at is not None:
        raise Unauthenticated("the token's user is disabled")
    return Actor(
        org_id=token.org_id,
        org_slug=token.org_slug,
        role=Role(token.role),
        token_id=token.id,
        token_last_used_at=token.last_used_at,
        user_id=token.user_id,
        user_name=token.user_name,
    )


def use_is_stale(actor: Actor, now: datetime) -> bool:
    """Whether the token's `last_used_at` (the session's `last_seen_at`) is old enough to be
    worth writing again."""
    if actor.session_id is not None:
        seen = actor.session_last_seen_at
        return seen is None or seen < now - USE_RECORD_INTERVAL
    if actor.token_id is None:
        return False
    last = actor.token_last_used_at
    return last is None or last < now - USE_RECORD_INTERVAL


def record_use(engine: Engine, actor: Actor, now: datetime) -> bool:
    """Write the token's `last_used_at` in a short transaction of its own, if it is stale.

    Never holds up or fails a request: the lock wait is tiny, and on contention (another
    writer holds SQLite's lock, or the token's row in PostgreSQL) the record is skipped;
    a later request records it. Returns whether it was written.
    """
    if (actor.token_id is None and actor.session_id is None) or not use_is_stale(actor, now):
        return False
    try:
        with writer_bind(engine, wait_ms=RECORD_USE_WAIT_MS).connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            # Set on the driver's connection: through SQLAlchemy it would begin a transaction.
            raw: Any = connection.connection.dbapi_connection
            if sqlite:
                busy = raw.execute("PRAGMA busy_timeout").fetchone()[0]
                raw.execute(f"PRAGMA busy_timeout={RECORD_USE_WAIT_MS}")
            try:
                with connection.begin():
                    if not sqlite:
                        connection.exec_driver_sql(
                            f"SET LOCAL lock_timeout = '{RECORD_USE_WAIT_MS}ms'"
                        )
                    with Session(bind=connection) as session:
                        since = now - USE_RECORD_INTERVAL
                        if actor.session_id is not None:
                            SessionRepository(session).touch(
                                actor.session_id, now, unless_since=since
                            )
                        elif actor.token_id is not None:
                            TokenRepository(session).touch(actor.token_id, now, unless_since=since)
                        session.flush()
            finally:
                if sqlite:
                    raw.execute(f"PRAGMA busy_timeout={int(busy)}")
    except OperationalError as exc:
        log.info("token use not recorded (database busy): %s", exc.__class__.__name__)
        return False
    return True


def list_tokens(session: Session, org_slug: str) -> list[ApiToken]:
    org = OrganisationRepository(session).by_slug(org_slug)
    if org is None:
        raise NotFound(f"no organisation {org_slug!r}")
    return TokenRepository(session).for_org(org.id)


def revoke_token(session: Session, prefix: str) -> ApiToken:
    """Revoke the one token shown as `prefix`; it fails from the next request on."""
    matches = TokenRepository(session).by_prefix(prefix)
    if len(matches) != 1:
        raise NotFound(f"{len(matches)} tokens start with {prefix!r}; give the whole prefix")
    token = matches[0]
    if token.revoked_at is None:
        TokenRepository(session).revoke(token.id, utcnow())
        session.refresh(token)
    return token
