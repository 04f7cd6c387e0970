"""A small Chain for the security tests, and a way to see whether a request changed anything."""

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.auth.models import ApiToken
from app.auth.repository import TokenRepository
from app.auth.service import issue_token
from app.context import AppContext
from app.core.db import unit_of_work
from app.core.models import utcnow
from app.models import Base
from tests.factories import CHAIN, Api

# The roles of DESIGN §2, each as one member of the test Chain (see tests.factories.CHAIN).
ROLE_ACTORS = {
    "applicant": "applicant",
    "council": "council",
    "ministry": "ministry",
    "consulted": "mpi",
    "government": "government",
    "viewer": "viewer",
    "admin": "admin",
}


def database_snapshot(ctx: AppContext) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table. `api_tokens.last_used_at` is left out: recording that a
    valid token was used is the one write a refused request may make."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with ctx.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            columns = [
                c
                for c in table.columns
                if not (table.name == "api_tokens" and c.name == "last_used_at")
            ]
            rows = conn.execute(select(*columns)).all()
            tables[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return tables


def stored_files(ctx: AppContext) -> set[Path]:
    return {p for p in ctx.store.root.rglob("*") if p.is_file()}


@dataclass
class World:
    """Two applicants' cases: A (hau-giang, appraised by the Ministry, in consultation with
    mpi and mof; mpi answered, mof filed its opinion) and B (tien-giang, a draft). Each
    role's "own" case is A, its "foreign" one is B: an applicant or a consulted ministry
    must not see B, the other roles see both."""

    api: Api
    own_case: str
    foreign_case: str
    own_document: str
    foreign_document: str
    own_consultation: str
    own_letter: str
    revoked: dict[str, str]
    # Per role, a webhook subscription of its organisation made with its token, and a second
    # one for removal; and one of tien-giang, an organisation none of the roles belongs to.
    subscriptions: dict[str, str] = field(default_factory=dict)
    removable_subscriptions: dict[str, str] = field(default_factory=dict)
    foreign_subscription: str = ""

    def token(self, role: str) -> str:
        return self.api.tokens[ROLE_ACTORS[role]]


def build_world(api: Api, ctx: AppContext) -> World:
    appraised = api.case_in_ministry_appraisal()
    assert api.upload(appraised["id"], "appraisal_report", "ministry").status_code == 201
    own = api.advance(appraised["id"], "open_consultation", "ministry", ministries=["mpi", "mof"])
    mpi = next(c for c in api.consultations(own["id"]) if c["ministry"] == "mpi")
    assert api.upload(own["id"], "ministry_opinion", "mpi").status_code == 201
    assert api.answer(own["id"], mpi["id"], "mpi").status_code == 200
    # mof has filed its opinion but not answered yet.
    assert api.upload(own["id"], "ministry_opinion", "mof").status_code == 201
    foreign = api.create_case("other_applicant", province="Tiền Giang")
    assert api.upload(foreign["id"], "provincial_proposal", "other_applicant").status_code == 201
    own_doc = next(d for d in api.documents(own["id"]) if d["doc_type"] == "provincial_proposal")
    foreign_doc = api.documents(foreign["id"])[0]
    revoked: dict[str, str] = {}
    with unit_of_work(ctx.engine) as session:
        for role, who in ROLE_ACTORS.items():
            slug, _, token_role = CHAIN[who]
            token, revoked[role] = issue_token(session, org_slug=slug, role=token_role)
            TokenRepository(session).revoke(token.id, utcnow())
        assert session.scalar(select(ApiToken).where(ApiToken.revoked_at.is_(None))) is not None
    return World(
        api=api,
        own_case=own["id"],
        foreign_case=foreign["id"],
        own_document=own_doc["id"],
        foreign_document=foreign_doc["id"],
        own_consultation=mpi["id"],
        own_letter=next(
            d["id"] for d in api.documents(own["id"]) if d["doc_type"] == "intake_receipt"
        ),
        revoked=revoked,
        subscriptions={role: _subscribe(api, who) for role, who in ROLE_ACTORS.items()},
        removable_subscriptions={role: _subscribe(api, who) for role, who in ROLE_ACTORS.items()},
        foreign_subscription=_subscribe(api, "other_applicant"),
    )


def _subscribe(api: Api, who: str) -> str:
    response = api.client.post(
        "/api/v1/webhooks",
        json={"url": f"https://hooks.example.vn/{who}", "event_types": ["*"]},
        headers=api.headers(who),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def random_id() -> str:
    return str(uuid.uuid4())
