"""Consultations: the Ministry asks other ministries for their opinion, each answers once."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from app import access
from app.auth.actor import Actor
from app.auth.models import Organisation
from app.auth.repository import OrganisationRepository
from app.calendar.working import WorkingCalendar
from app.consultations.models import Consultation
from app.consultations.repository import ConsultationRepository
from app.consultations.schemas import AnswerRequest, ConsultedMinistry, Outcome
from app.context import AppContext
from app.core.errors import ActionNotAllowedNow, Forbidden, NotFound, ValueConflict
from app.documents.repository import DocumentRepository
from app.engine.roles import OrgKind, Role
from app.events.service import emit
from app.history import actions
from app.history import service as history


def resolve_ministries(session: Session, actor: Actor, slugs: list[str]) -> list[Organisation]:
    """The organisations to consult; refuses unknown, repeated or non-ministry slugs."""
    if len(set(slugs)) != len(slugs):
        raise ValueConflict("a ministry is listed twice", {"ministries": "duplicates"})
    orgs = {org.slug: org for org in OrganisationRepository(session).by_slugs(slugs)}
    unknown = [s for s in slugs if s not in orgs or orgs[s].kind != OrgKind.MINISTRY.value]
    if unknown:
        raise ValueConflict("not ministries that can be consulted", {"ministries": unknown})
    if actor.org_slug in orgs:
        raise ValueConflict(
            "the Ministry does not consult itself", {"ministries": [actor.org_slug]}
        )
    return [orgs[s] for s in slugs]


@dataclass(frozen=True)
class Planned:
    """A ministry to consult and when its answer is due."""

    ministry: Organisation
    due_at: date
    working_days: int

    def recorded(self) -> dict[str, Any]:
        return {
            "ministry": self.ministry.slug,
            "due_at": self.due_at.isoformat(),
            "working_days": self.working_days,
        }


def plan_round(
    session: Session,
    actor: Actor,
    asked: Sequence[str | ConsultedMinistry],
    today: date,
    calendar: WorkingCalendar,
    default_days: int,
) -> list[Planned]:
    """Each ministry asked with its due date: its own working days or date, else the default.

    Refuses (422, nothing opened) unknown, repeated or non-ministry slugs, and a due date that
    is not a working day after today."""
    entries = [
        a if isinstance(a, ConsultedMinistry) else ConsultedMinistry(ministry=a) for a in asked
    ]
    ministries = resolve_ministries(session, actor, [e.ministry for e in entries])
    planned, problems = [], {}
    for entry, org in zip(entries, ministries, strict=True):
        if entry.due_date is None:
            days = entry.working_days or default_days
            planned.append(Planned(org, calendar.add_working_days(today, days), days))
        elif entry.due_date <= today:
            problems[org.slug] = f"due_date {entry.due_date.isoformat()} is not after today"
        elif not calendar.is_working_day(entry.due_date):
            problems[org.slug] = f"due_date {entry.due_date.isoformat()} is not a working day"
        else:
            days = calendar.working_days_between(today, entry.due_date)
            planned.append(Planned(org, entry.due_date, days))
    if problems:
        raise ValueConflict("a ministry's due date cannot be used", {"ministries": problems})
    return planned


def open_round(
    session: Session, case_id: uuid.UUID, planned: Sequence[Planned], now: datetime
) -> list[Consultation]:
    repo = ConsultationRepository(session)
    round_no = repo.latest_round(case_id) + 1
    consultations = [
        Consultation(
            case_id=case_id,
            round=round_no,
            ministry_org_id=p.ministry.id,
            opened_at=now,
            due_at=p.due_at,
        )
        for p in planned
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


def outcome(consultation: Consultation, closed_on: date) -> Outcome:
    """What became of a consultation closed on `closed_on` (a local date)."""
    if consultation.answered_at is not None:
        return "answered"
    if consultation.due_at < closed_on:
        return "overdue_unanswered"
    return "closed_before_due"


def close_round(
    session: Session, case_id: uuid.UUID, now: datetime, today: date
) -> list[dict[str, Any]]:
    """Close the open round, answered or not; each ministry with what became of it."""
    closed = ConsultationRepository(session).open_ones(case_id)
    for consultation, _ in closed:
        consultation.closed_at = now
    session.flush()
    return [_closed(c, slug, today) for c, slug in closed]


def _closed(c: Consultation, slug: str, today: date) -> dict[str, Any]:
    result = outcome(c, today)
    entry: dict[str, Any] = {"ministry": slug, "outcome": result, "due_at": c.due_at.isoformat()}
    if result == "answered":
        assert c.answered_at is not None
        entry["verdict"] = c.verdict
        entry["answered_at"] = c.answered_at.isoformat()
    elif result == "overdue_unanswered":
        entry["overdue_days"] = (today - c.due_at).days
    return entry


def list_for_case(
    session: Session, ctx: AppContext, actor: Actor, case_id: uuid.UUID
) -> tuple[int, list[tuple[Consultation, str]]]:
    """The case's version (the If-Match an answer or an extension names) and the
    consultations the actor may see, with their ministries' slugs."""
    record = access.load(session, ctx, actor, case_id)
    only = actor.org_id if actor.role is Role.CONSULTED else None
    return record.case.version, ConsultationRepository(session).for_case(
        case_id, ministry_org_id=only
    )


def visible_consultation(
    session: Session, actor: Actor, case_id: uuid.UUID, consultation_id: uuid.UUID
) -> Consultation:
    """The case's consultation, or 404; a consulted ministry sees only its own."""
    consultation = ConsultationRepository(session).get(case_id, consultation_id)
    if consultation is None or (
        actor.role is Role.CONSULTED and consultation.ministry_org_id != actor.org_id
    ):
        raise NotFound("no such consultation")
    return consultation


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
    consultation = visible_consultation(session, actor, case_id, consultation_id)
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
    stale = opinion is not None and opinion.uploaded_at < consultation.opened_at
    if opinion is None or stale or opinion.rejected_at is not None:
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
