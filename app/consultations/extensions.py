"""One extension of a consulted ministry's deadline, given by the Ministry with a reason.

An extension is a change of the case like a transition: it needs the version the Ministry
read (`If-Match`), moves the case to its next version, and is recorded as an entry of the
case's hash-chained history (`extend_consultation`) and as a `consultation.extended` event,
both naming the ministry (so that another consulted ministry reads neither). The case's own
due date is kept no earlier than its last ministry's; when that moves it, a `case.updated`
event says so to every reader. Each consultation is extended at most once (Decree 61/2018:
once, with a written reason).
"""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app import access
from app.auth.actor import Actor
from app.auth.repository import OrganisationRepository
from app.consultations.models import Consultation
from app.consultations.schemas import ExtendRequest
from app.consultations.service import visible_consultation
from app.context import AppContext
from app.core.errors import (
    ActionNotAllowedNow,
    Forbidden,
    RequirementsMissing,
    ValueConflict,
)
from app.deadlines import clock
from app.engine.roles import Role
from app.events.service import emit
from app.history import service as history

ACTION = "extend_consultation"


@dataclass
class Extended:
    consultation: Consultation
    ministry: str
    case_version: int


def extend(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    case_id: uuid.UUID,
    consultation_id: uuid.UUID,
    expected_version: int,
    data: ExtendRequest,
) -> Extended:
    """Move one open, unanswered consultation's due date later, once."""
    record = access.load(session, ctx, actor, case_id)
    access.check_version(record.case, expected_version)
    consultation = visible_consultation(session, actor, case_id, consultation_id)
    if actor.role is not Role.MINISTRY:
        raise Forbidden("only the Ministry extends a consulted ministry's deadline")
    ministry = OrganisationRepository(session).by_id(consultation.ministry_org_id)
    slug = ministry.slug if ministry else str(consultation.ministry_org_id)
    _check_open(consultation, slug)
    today = ctx.today()
    new_due, current = data.new_due_date, consultation.due_at
    if new_due <= current:
        raise ValueConflict(
            f"the new due date must be after the current one ({current.isoformat()})",
            {"new_due_date": "not after the current due date"},
        )
    if new_due <= today:
        raise ValueConflict(
            "the new due date must be in the future", {"new_due_date": "not in the future"}
        )
    if not ctx.calendar.is_working_day(new_due):
        raise ValueConflict(
            f"{new_due.isoformat()} is not a working day", {"new_due_date": "not a working day"}
        )

    now = ctx.now()
    case = record.case
    consultation.original_due_at = current
    consultation.due_at = new_due
    consultation.extended_at = now
    consultation.extension_reason = data.reason
    consultation.overdue_notified_at = None
    fields: dict[str, Any] = {
        "consultation_id": str(consultation.id),
        "ministry": slug,
        "round": consultation.round,
        "original_due_at": current.isoformat(),
        "new_due_date": new_due.isoformat(),
        "extension_working_days": ctx.calendar.working_days_between(current, new_due),
    }
    case_due_moved = clock.reach(case, new_due)
    if case_due_moved:
        fields["due_at"] = new_due.isoformat()
    if warning := ctx.calendar.warning_for(new_due):
        fields["calendar_warning"] = warning
    access.save(session, case, now)
    history.append(
        session,
        case=case,
        actor=actor,
        action=ACTION,
        from_state=case.state,
        to_state=case.state,
        at=now,
        reason=data.reason,
        fields=fields,
    )
    emit(
        session,
        "consultation.extended",
        case.id,
        {
            "consultation_id": str(consultation.id),
            "ministry": slug,
            "original_due_at": current.isoformat(),
            "due_at": new_due.isoformat(),
            "version": case.version,
        },
        at=now,
    )
    if case_due_moved:
        # What everyone sees of it, without the ministry's name: the case's own due date.
        emit(
            session,
            "case.updated",
            case.id,
            {"version": case.version, "changed": ["due_at"]},
            at=now,
        )
    return Extended(consultation, slug, case.version)


def _check_open(consultation: Consultation, slug: str) -> None:
    """409 unless the consultation is still waiting for its answer and was never extended."""
    if consultation.closed_at is not None:
        raise ActionNotAllowedNow(
            "the consultation is closed", {"closed_at": consultation.closed_at.isoformat()}
        )
    if consultation.answered_at is not None:
        raise ActionNotAllowedNow(
            "the consultation was answered: there is no deadline left to extend",
            {"answered_at": consultation.answered_at.isoformat()},
        )
    if consultation.extended_at is not None:
        assert consultation.original_due_at is not None
        message = (
            f"{slug}'s deadline was already extended once, on "
            f"{consultation.extended_at.isoformat()}, from "
            f"{consultation.original_due_at.isoformat()} to {consultation.due_at.isoformat()}: "
            f"{consultation.extension_reason}"
        )
        raise RequirementsMissing(
            "a consultation's deadline is extended only once",
            {"missing": [{"kind": "extension", "name": slug, "message": message}]},
        )
