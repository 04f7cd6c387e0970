"""Small typed factories for service-level tests: rows inserted through the models, no HTTP.

Each factory adds its row to the session and flushes, so that the next query sees it; nothing
is committed (the test's session is rolled back at the end).
"""

import hashlib
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.admission.steps import Check, Firing
from app.auth.actor import Actor
from app.auth.models import Organisation
from app.cases.models import Case
from app.cases.schemas import TransitionRequest
from app.consultations.models import Consultation
from app.context import AppContext
from app.deadlines.clock import ClockState
from app.documents.models import Document
from app.engine.roles import OrgKind, Role
from app.engine.workflow import Workflow

DEFAULT_WORKFLOW = "qtsc-chain-admission"

# Monday 2 March 2026, 09:00 in Vietnam. March 2026 has no public holiday.
MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def make_org(
    session: Session,
    slug: str | None = None,
    kind: OrgKind = OrgKind.PROVINCE,
    name: str | None = None,
) -> Organisation:
    slug = slug or f"{kind.value}-{uuid.uuid4().hex[:8]}"
    org = Organisation(slug=slug, name=name or slug.upper(), kind=kind.value)
    session.add(org)
    session.flush()
    return org


def actor_of(org: Organisation, role: Role) -> Actor:
    return Actor(org_id=org.id, org_slug=org.slug, role=role)


def workflow_of(ctx: AppContext, case: Case) -> Workflow:
    return ctx.workflows.get(case.workflow_key, case.workflow_version)


def make_case(
    session: Session,
    ctx: AppContext,
    *,
    state: str = "draft",
    applicant: Organisation | None = None,
    workflow: str = DEFAULT_WORKFLOW,
    **columns: Any,
) -> Case:
    """A case in `state`, its other columns (`due_at`, `code`, …) as given."""
    found = ctx.workflows.latest(workflow)
    assert found is not None, workflow
    assert state in found.definition.states, state
    now = ctx.now()
    values: dict[str, Any] = {
        "applicant_name": "Khu Công nghệ số tỉnh Hậu Giang",
        "province": "Hậu Giang",
        "unit_kind": "digital_technology_zone",
        "state_entered_at": now,
        "created_at": now,
        "updated_at": now,
        **columns,
    }
    case = Case(
        workflow_key=found.key,
        workflow_version=found.version,
        state=state,
        version=1,
        applicant_org_id=(applicant or make_org(session)).id,
        **values,
    )
    case.refresh_search_text()
    session.add(case)
    session.flush()
    return case


def make_consultation(
    session: Session,
    case: Case,
    ministry: Organisation,
    *,
    due_at: date,
    round: int = 1,
    opened_at: datetime = MONDAY,
    answered_at: datetime | None = None,
    closed_at: datetime | None = None,
) -> Consultation:
    consultation = Consultation(
        case_id=case.id,
        round=round,
        ministry_org_id=ministry.id,
        opened_at=opened_at,
        due_at=due_at,
        verdict="agree" if answered_at else None,
        answered_at=answered_at,
        closed_at=closed_at,
    )
    session.add(consultation)
    session.flush()
    return consultation


def make_document(
    session: Session,
    case: Case,
    doc_type: str,
    uploader: Actor,
    *,
    filename: str | None = None,
    uploaded_at: datetime = MONDAY,
    superseded_at: datetime | None = None,
) -> Document:
    """A document row (the store holds no bytes for it: for steps that read rows only)."""
    document = Document(
        case_id=case.id,
        doc_type=doc_type,
        filename=filename or f"{doc_type}.pdf",
        content_type="application/pdf",
        size=1000,
        sha256=hashlib.sha256(f"{case.id}{doc_type}{filename}".encode()).hexdigest(),
        uploaded_by_org_id=uploader.org_id,
        uploaded_by_role=uploader.role.value,
        uploaded_at=uploaded_at,
        superseded_at=superseded_at,
    )
    session.add(document)
    session.flush()
    return document


def firing(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    case: Case,
    action: str,
    *,
    workflow: Workflow | None = None,
    clock_before: ClockState | None = None,
    **fields: Any,
) -> Firing:
    """What an effect of `action` sees; the clock before is the case's as it now stands."""
    return Firing(
        session=session,
        ctx=ctx,
        actor=actor,
        case=case,
        workflow=workflow or workflow_of(ctx, case),
        request=TransitionRequest(action=action, **fields),
        now=ctx.now(),
        clock_before=clock_before or ClockState.of(case),
    )


def check(session: Session, ctx: AppContext, case: Case) -> Check:
    return Check(session, ctx, case)
