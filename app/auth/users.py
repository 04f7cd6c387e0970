"""People: accounts of one organisation in one role, their passwords, second factor and
personal tokens. Disabling a person stops their sessions and tokens from the next request."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy.orm import Session

from app.auth.models import ApiToken, Organisation, User
from app.auth.passwords import hash_password, one_time_password
from app.auth.repository import OrganisationRepository, TokenRepository, UserRepository, email_key
from app.auth.tokens import display_prefix, hash_token, new_token
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.models import utcnow
from app.engine.roles import ROLE_HOLDERS, OrgKind, Role

# Enough to reject what is plainly not an address; the organisation's mail system decides the rest.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NAME_MAX_LENGTH = 200
RECOVERY_CODES = 10
TOTP_ISSUER = "QTSC Chain admissions"


@dataclass(frozen=True)
class NewUser:
    user: User
    # The one-time password to hand over, when none was given.
    one_time_password: str | None


def create_user(
    session: Session,
    *,
    org_slug: str,
    role: str,
    email: str,
    name: str,
    password: str | None = None,
) -> NewUser:
    """Register a person; without `password`, a one-time one to change at first sign-in."""
    org = _org(session, org_slug)
    user_role = _role_for(org, role)
    address = email.strip()
    if not _EMAIL.match(address) or len(address) > 320:
        raise InvalidInput(f"{email!r} is not an e-mail address", {"email": "invalid"})
    display = " ".join(name.split())
    if not display or len(display) > NAME_MAX_LENGTH:
        raise InvalidInput(
            f"a display name has 1 to {NAME_MAX_LENGTH} characters", {"name": "invalid"}
        )
    repo = UserRepository(session)
    if repo.by_email(address) is not None:
        raise Conflict(f"a user with e-mail {address!r} already exists")
    clear = password if password is not None else one_time_password()
    user = repo.add(
        User(
            organisation_id=org.id,
            role=user_role.value,
            email=address,
            email_key=email_key(address),
            display_name=display,
            password_hash=hash_password(clear),
            must_change_password=password is None,
            failed_signins=0,
        )
    )
    return NewUser(user, None if password is not None else clear)


def list_users(session: Session, org_slug: str) -> list[User]:
    return UserRepository(session).for_org(_org(session, org_slug).id)


def by_email(session: Session, email: str) -> User:
    user = UserRepository(session).by_email(email)
    if user is None:
        raise NotFound(f"no user with e-mail {email!r}")
    return user


def disable_user(session: Session, email: str, at: datetime | None = None) -> User:
    """Disable the account and end its sessions; its tokens fail from the next request."""
    user = by_email(session, email)
    now = at or utcnow()
    if user.disabled_at is None:
        user.disabled_at = now
    UserRepository(session).revoke_sessions(user.id, now)
    session.flush()
    return user


def enable_user(session: Session, email: str) -> User:
    user = by_email(session, email)
    user.disabled_at = None
    session.flush()
    return user


def reset_password(session: Session, email: str) -> tuple[User, str]:
    """A new one-time password (to change at the next sign-in); open sessions end."""
    user = by_email(session, email)
    clear = one_time_password()
    user.password_hash = hash_password(clear)
    user.must_change_password = True
    user.failed_signins = 0
    user.locked_until = None
    UserRepository(session).revoke_sessions(user.id, utcnow())
    session.flush()
    return user, clear


def change_password(session: Session, user: User, new_password: str) -> None:
    """The person's own choice replaces a one-time (or old) password."""
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    session.flush()


@dataclass(frozen=True)
class SecondFactor:
    secret: str
    uri: str
    recovery_codes: list[str]


def enable_totp(session: Session, email: str) -> SecondFactor:
    """Give the person a TOTP secret (for an authenticator app) and fresh recovery codes."""
    user = by_email(session, email)
    secret = pyotp.random_base32()
    user.totp_secret = secret
    user.totp_last_step = None
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    UserRepository(session).replace_recovery_codes(user.id, [hash_recovery_code(c) for c in codes])
    session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)
    return SecondFactor(secret, uri, codes)


def disable_totp(session: Session, email: str) -> User:
    user = by_email(session, email)
    user.totp_secret = None
    user.totp_last_step = None
    UserRepository(session).replace_recovery_codes(user.id, [])
    return user


def hash_recovery_code(code: str) -> str:
    # 40 random bits, one use, behind the password and the sign-in throttle: a digest will do.
    return hashlib.sha256(code.strip().lower().replace("-", "").encode()).hexdigest()


def issue_personal_token(
    session: Session, *, email: str, label: str | None = None, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A token acting as the person: their organisation and role, their name in the history."""
    user = by_email(session, email)
    if user.disabled_at is not None:
        raise Conflict(f"user {user.email!r} is disabled")
    clear = new_token()
    token = ApiToken(
        organisation_id=user.organisation_id,
        role=user.role,
        token_hash=hash_token(clear),
        prefix=display_prefix(clear),
        label=label,
        expires_at=expires_at,
        user_id=user.id,
    )
    return TokenRepository(session).add(token), clear


def _org(session: Session, slug: str) -> Organisation:
    org = OrganisationRepository(session).by_slug(slug)
    if org is None:
        raise NotFound(f"no organisation {slug!r}")
    return org


def _role_for(org: Organisation, role: str) -> Role:
    try:
        user_role = Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role {role!r}", {"role": [r.value for r in Role]}) from None
    if OrgKind(org.kind) not in ROLE_HOLDERS[user_role]:
        allowed = sorted(k.value for k in ROLE_HOLDERS[user_role])
        raise InvalidInput(
            f"a {org.kind} organisation cannot hold the {role} role", {"kinds": allowed}
        )
    return user_role
