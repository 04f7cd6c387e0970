"""Organisations and their tokens; turning a bearer token into an `Actor`."""

from datetime import datetime

from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.auth.models import ApiToken, Organisation
from app.auth.repository import OrganisationRepository, TokenRepository
from app.auth.tokens import display_prefix, hash_token, new_token
from app.core.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from app.core.models import utcnow
from app.engine.roles import ROLE_HOLDERS, OrgKind, Role


def create_organisation(session: Session, *, slug: str, name: str, kind: str) -> Organisation:
    try:
        org_kind = OrgKind(kind)
    except ValueError:
        raise InvalidInput(
            f"unknown organisation kind {kind!r}", {"kind": [k.value for k in OrgKind]}
        ) from None
    repo = OrganisationRepository(session)
    if repo.by_slug(slug) is not None:
        raise Conflict(f"organisation {slug!r} already exists")
    return repo.add(Organisation(slug=slug, name=name, kind=org_kind.value))


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
    found = TokenRepository(session).by_hash(hash_token(bearer))
    if found is None:
        raise Unauthenticated("invalid token")
    token, org = found
    now = utcnow()
    if token.revoked_at is not None:
        raise Unauthenticated("token revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthenticated("token expired")
    return Actor(org_id=org.id, org_slug=org.slug, role=Role(token.role), token_id=token.id)


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
