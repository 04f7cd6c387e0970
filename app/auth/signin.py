"""Signing a person in: password (and TOTP code), throttled per account; server-side sessions
with an idle and an absolute end, revocable, and a CSRF token derived from each one.

The cookie holds a random secret; the database keeps its SHA-256 digest (as for tokens), so
a copy of the database signs nobody in. The CSRF token is an HMAC of the secret: only a page
served to the holder of the cookie can know it, and nothing more needs storing.
"""

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.auth.models import User, UserSession
from app.auth.passwords import check_strength, hash_password, needs_rehash, verify_password
from app.auth.repository import SessionRepository, UserRepository
from app.auth.users import change_password, hash_recovery_code
from app.core.errors import (
    InvalidInput,
    PasswordChangeRequired,
    TooManyRequests,
    Unauthenticated,
)
from app.engine.roles import Role

log = logging.getLogger("admission.security")

SESSION_PREFIX = "qs_"
COOKIE = "admission_session"
# Same answer for every kind of failure: which of e-mail, password or code was wrong is not said.
BAD_CREDENTIALS = "wrong e-mail, password or code"


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta
    # Consecutive failures of one account before it waits `lock`.
    account_limit: int
    lock: timedelta


@dataclass(frozen=True)
class SignedIn:
    user: User
    cookie: str
    session_id: int


def session_hash(clear: str) -> str:
    return hashlib.sha256(clear.encode()).hexdigest()


def csrf_token(clear: str) -> str:
    """The CSRF token of the session whose cookie is `clear`."""
    return hmac.new(clear.encode(), b"csrf", hashlib.sha256).hexdigest()


def csrf_matches(clear: str, given: str | None) -> bool:
    if not clear or not given:
        return False
    return hmac.compare_digest(csrf_token(clear), given.strip())


def sign_in(
    session: Session,
    policy: SessionPolicy,
    *,
    email: str,
    password: str,
    code: str | None,
    now: datetime,
    address: str,
    replacing: str | None = None,
) -> SignedIn:
    """Check the credentials and open a new session (the one the browser held, if any, ends:
    a session is never carried over a sign-in)."""
    repo = UserRepository(session)
    user = repo.by_email(email)
    if user is not None and user.locked_until is not None and user.locked_until > now:
        wait = max(1, int((user.locked_until - now).total_seconds()))
        _log_failure(email, address, "account locked")
        raise TooManyRequests("too many failed sign-ins for this account; try again later", wait)
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok:
        _fail(session, policy, user, email, address, now, "wrong password or unknown e-mail")
        raise Unauthenticated(BAD_CREDENTIALS)
    if user.disabled_at is not None:
        _log_failure(email, address, "user disabled")
        raise Unauthenticated(BAD_CREDENTIALS)
    if user.totp_secret is not None and not _second_factor(session, user, code, now):
        _fail(session, policy, user, email, address, now, "wrong second-factor code")
        raise Unauthenticated(BAD_CREDENTIALS)
    user.failed_signins = 0
    user.locked_until = None
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    sessions = SessionRepository(session)
    if replacing:
        sessions.revoke_by_hash(session_hash(replacing), now)
    clear = SESSION_PREFIX + secrets.token_urlsafe(32)
    opened = sessions.add(
        UserSession(
            user_id=user.id,
            token_hash=session_hash(clear),
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.absolute,
        )
    )
    log.info(
        "signed in %s",
        user.email,
        extra={"event": "signed_in", "user_id": user.id, "client": address},
    )
    return SignedIn(user, clear, opened.id)


def _second_factor(session: Session, user: User, code: str | None, now: datetime) -> bool:
    """A TOTP code not used before (this step or the one either side), or a recovery code."""
    given = (code or "").strip().replace(" ", "")
    if not given:
        return False
    assert user.totp_secret is not None
    if given.isdigit() and len(given) == 6:
        totp = pyotp.TOTP(user.totp_secret)
        step = totp.timecode(now)
        for candidate in (step - 1, step, step + 1):
            if user.totp_last_step is not None and candidate <= user.totp_last_step:
                continue
            if hmac.compare_digest(totp.generate_otp(candidate), given):
                user.totp_last_step = candidate
                return True
        return False
    return UserRepository(session).use_recovery_code(user.id, hash_recovery_code(given), now)


def _fail(
    session: Session,
    policy: SessionPolicy,
    user: User | None,
    email: str,
    address: str,
    now: datetime,
    why: str,
) -> None:
    if user is not None:
        user.failed_signins += 1
        if user.failed_signins >= policy.account_limit:
            user.locked_until = now + policy.lock
            user.failed_signins = 0
            why += "; account locked"
        session.flush()
    _log_failure(email, address, why)


def _log_failure(email: str, address: str, why: str) -> None:
    # The e-mail given, never the password or the code.
    log.warning(
        "sign-in refused for %r from %s: %s",
        email[:320],
        address,
        why,
        extra={"event": "signin_refused", "email": email[:320], "client": address},
    )


def sign_out(session: Session, clear: str, now: datetime) -> None:
    SessionRepository(session).revoke_by_hash(session_hash(clear), now)


def authenticate_session(
    session: Session, policy: SessionPolicy, clear: str, now: datetime, *, allow_stale: bool = False
) -> Actor:
    """The person a session cookie stands for; refused once ended, idle too long, past its
    absolute end, or its person disabled (all read from the database on every request).

    `allow_stale`: a person who must still change their one-time password is let through
    (only the password page asks for this)."""
    grant = SessionRepository(session).by_hash(session_hash(clear))
    if grant is None or grant.revoked_at is not None:
        raise Unauthenticated("signed out; sign in again")
    if grant.user_disabled_at is not None:
        raise Unauthenticated("this account is disabled")
    if grant.expires_at <= now or grant.last_seen_at + policy.idle <= now:
        raise Unauthenticated("the session has expired; sign in again")
    if grant.must_change_password and not allow_stale:
        raise PasswordChangeRequired("choose a new password before going on")
    return Actor(
        org_id=grant.org_id,
        org_slug=grant.org_slug,
        role=Role(grant.role),
        user_id=grant.user_id,
        user_name=grant.user_name,
        session_id=grant.id,
        session_last_seen_at=grant.last_seen_at,
    )


def change_own_password(session: Session, user_id: int, current: str, new: str, again: str) -> None:
    """The person replaces their password; InvalidInput names what is wrong."""
    user = UserRepository(session).by_id(user_id)
    if user is None:
        raise Unauthenticated("signed out; sign in again")
    if not verify_password(user.password_hash, current):
        raise InvalidInput("the current password is wrong", {"password": "wrong current"})
    if new != again:
        raise InvalidInput("the two new passwords differ", {"password": "mismatch"})
    if new == current:
        raise InvalidInput("the new password is the old one", {"password": "same as old"})
    check_strength(new)
    change_password(session, user, new)
