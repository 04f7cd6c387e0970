"""Consultations: the Ministry asks other ministries for their opinion, each answers once."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from app import access
from app.auth.actor import Actor
from app.auth.models import Organisation
from app.auth.repository import OrganisationRepository
from app.consultations.models import Consultation
from app.consultations.repository import ConsultationRepository
from app.consultations.schemas import AnswerRequest
from app.context import AppContext
from app.core.errors import ActionNotAllowedNow, Forbidden, InvalidInput, NotFound
from app.documents.repository import DocumentRepository
from app.engine.roles import OrgKind, Role
from app.events.service import emit
from app.history import actions
from app.history import service as history


def resolve_ministries(session: Session, actor: Actor, slugs: list[str]) -> list[Organisation]:
    """The organisations to consult; refuses unknown, repeated or non-ministry slugs."""
    if len(set(slugs)) != len(slugs):
        raise InvalidInput("a ministry is listed twice", {"ministries": "duplicates"})
    orgs = {org.slug: org for org in OrganisationRepository(session).by_slugs(slugs)}
    unknown = [s for s in slugs if s not in orgs or orgs[s].kind != OrgKind.MINISTRY.value]
    if unknown:
        raise InvalidInput("not ministries that can be consulted", {"ministries": unknown})
    if actor.org_slug in orgs:
        raise InvalidInput("the Ministry does not consult itself", {"ministries": [actor.org_slug]})
    return [orgs[s] for s in slugs]


def open_round(
    session: Session, case_id: uuid.UUID, ministries: list[Organisation], now: datetime, due: date
) -> list[Consultation]:
    repo = ConsultationRepository(session)
    round_no = repo.latest_round(case_id) + 1
    consultations = [
        Consultation(
            case_id=case_id, round=round_no, ministry_org_id=org.id, opened_at=now, due_at=due
        )
        for org in ministries
    ]
    repo.add_all(consultations)
    return consultations


def unsettled(session: Session, case_id: uuid.UUID, today: date) -> list[str]:
    """Ministries of the open round that have not answered while their deadline still runs."""
    return [
        slug
        for c, slug in ConsultationRepository(session).open_ones(case_id)
        if c.answered_at is None and c.due_at >= today
    ]


def close_round(session: Session, case_id: uuid.UUID, now: datetime) -> list[str]:
    closed = ConsultationRepository(session).open_ones(case_id)
    for consultation, _ in closed:
        consultation.closed_at = now
    session.flush()
    return [slug for _, slug in closed]


def list_for_case(
    session: Session, ctx: AppContext, actor: Actor, case_id: uuid.UUID
) -> list[tuple[Consultation, str]]:
    access.load(session, ctx, actor, case_id)
    only = actor.org_id if actor.role is Role.CONSULTED else None
    return ConsultationRepository(session).for_case(case_id, ministry_org_id=only)


@dataclass(frozen=True)
class Answered:
    consultation: Consultation
    ministry: str
    # The case's version after the answer (what the case read shows has changed).
    case_version: int


def answer(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    case_id: uuid.UUID,
    consultation_id: uuid.UUID,
    expected_version: int,
    data: AnswerRequest,
) -> Answered:
    """Record the ministry's verdict: its history entry, the case's next version, its event."""
    # Held until commit: of two answers sent from one version, the second is told it is stale.
    record = access.load(session, ctx, actor, case_id, lock=True)
    case = record.case
    consultation = ConsultationRepository(session).get(case_id, consultation_id)
    if consultation is None or (
        actor.role is Role.CONSULTED and consultation.ministry_org_id != actor.org_id
    ):
        raise NotFound("no such consultation")
    if actor.role is not Role.CONSULTED:
        raise Forbidden("only the consulted ministry answers its consultation")
    access.check_version(case, expected_version)
    if consultation.closed_at is not None:
        raise ActionNotAllowedNow(
            "the consultation is closed", {"closed_at": str(consultation.closed_at)}
        )
    if consultation.answered_at is not None:
        raise ActionNotAllowedNow(
            "the consultation was already answered", {"verdict": consultation.verdict}
        )
    spec = record.workflow.definition.consultation
    opinion_type = spec.opinion_document if spec else "ministry_opinion"
    opinion = DocumentRepository(session).current(case_id, opinion_type, actor.org_id)
    if opinion is None or opinion.uploaded_at < consultation.opened_at:
        raise ActionNotAllowedNow(
            "upload the ministry's opinion document first",
            {"missing": [{"kind": "document", "name": opinion_type}]},
        )
    now = ctx.now()
    consultation.verdict = data.verdict.value
    consultation.comment = data.comment
    consultation.answered_at = now
    consultation.opinion_document_id = opinion.id
    history.append(
        session,
        case=case,
        actor=actor,
        action=actions.ANSWER_CONSULTATION,
        from_state=case.state,
        to_state=case.state,
        at=now,
        comment=data.comment,
        fields={
            "consultation_id": str(consultation.id),
            "ministry": actor.org_slug,
            "verdict": data.verdict.value,
            "opinion_document_id": str(opinion.id),
        },
    )
    # The answer changes what the case lacks (`close_consultation`): its next version.
    access.save(session, case, now)
    emit(
        session,
        "consultation.answered",
        case_id,
        {
            "consultation_id": str(consultation.id),
            "ministry": actor.org_slug,
            "verdict": data.verdict.value,
            "version": case.version,
        },
        at=now,
    )
    return Answered(consultation, actor.org_slug, case.version)
