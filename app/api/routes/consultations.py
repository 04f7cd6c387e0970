import uuid

from fastapi import APIRouter, Response

from app.api.deps import Context, CurrentActor, DbSession
from app.api.http import IfMatch, etag, version_from_if_match
from app.api.transaction import commits_in_its_thread
from app.consultations import extensions, service
from app.consultations.models import Consultation
from app.consultations.schemas import (
    AnswerRequest,
    ConsultationList,
    ConsultationOut,
    ExtendRequest,
)
from app.deadlines import clock

router = APIRouter(prefix="/api/v1/cases/{case_id}/consultations", tags=["consultations"])


def _out(c: Consultation, ministry: str, ctx: Context) -> ConsultationOut:
    waiting = c.answered_at is None and c.closed_at is None
    today = ctx.today()
    return ConsultationOut(
        id=c.id,
        round=c.round,
        ministry=ministry,
        opened_at=c.opened_at,
        due_at=c.due_at,
        overdue=waiting and c.due_at < today,
        overdue_days=clock.overdue_days(c.due_at, today) if waiting else 0,
        verdict=c.verdict,  # type: ignore[arg-type]
        comment=c.comment,
        answered_at=c.answered_at,
        opinion_document_id=c.opinion_document_id,
        closed_at=c.closed_at,
        original_due_at=c.original_due_at,
        extended_at=c.extended_at,
        extension_reason=c.extension_reason,
        outcome=service.outcome(c, ctx.local_date(c.closed_at)) if c.closed_at else None,
    )


@router.get("")
def list_consultations(
    case_id: uuid.UUID, session: DbSession, ctx: Context, actor: CurrentActor, response: Response
) -> ConsultationList:
    """The case's consultations (a consulted ministry sees only its own); the `ETag` is the
    case's, the `If-Match` an answer or an extension takes."""
    version, rows = service.list_for_case(session, ctx, actor, case_id)
    response.headers["ETag"] = etag(version)
    return ConsultationList(items=[_out(c, slug, ctx) for c, slug in rows])


@router.post("/{consultation_id}/answer")
@commits_in_its_thread
def answer_consultation(
    case_id: uuid.UUID,
    consultation_id: uuid.UUID,
    body: AnswerRequest,
    session: DbSession,
    ctx: Context,
    actor: CurrentActor,
    response: Response,
    if_match: IfMatch = None,
) -> ConsultationOut:
    """Answer the consultation addressed to the caller's ministry (opinion uploaded first);
    guarded by `If-Match`, it moves the case to its next version (new `ETag`)."""
    expected = version_from_if_match(if_match)
    answered = service.answer(session, ctx, actor, case_id, consultation_id, expected, body)
    response.headers["ETag"] = etag(answered.case_version)
    return _out(answered.consultation, answered.ministry, ctx)


@router.post("/{consultation_id}/extend")
@commits_in_its_thread
def extend_consultation(
    case_id: uuid.UUID,
    consultation_id: uuid.UUID,
    body: ExtendRequest,
    session: DbSession,
    ctx: Context,
    actor: CurrentActor,
    response: Response,
    if_match: IfMatch = None,
) -> ConsultationOut:
    """Give one consulted ministry a later due date, once, with a reason (the Ministry)."""
    expected = version_from_if_match(if_match)
    done = extensions.extend(session, ctx, actor, case_id, consultation_id, expected, body)
    response.headers["ETag"] = etag(done.case_version)
    return _out(done.consultation, done.ministry, ctx)
