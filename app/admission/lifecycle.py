"""Firing transitions: the guard checks, then one atomic write of state, history and event.

The workflow file says who may fire what and what it needs; this module only enforces it.
Named guards and effects in the file map onto the functions registered below.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from app import access
from app.auth.actor import Actor
from app.cases.models import Case
from app.cases.repository import CaseRepository
from app.cases.schemas import AllowedAction, Missing, TransitionRequest
from app.consultations import service as consultations
from app.context import AppContext
from app.core.errors import Forbidden, InvalidInput, RequirementsMissing, TransitionNotAllowed
from app.deadlines import clock
from app.documents.repository import DocumentRepository
from app.engine.definition import TransitionSpec
from app.engine.workflow import CaseToken, Workflow
from app.events.service import emit
from app.history import service as history
from app.history.repository import HistoryRepository
from app.letters import service as letters

# Fields whose value goes into the history entry when a transition takes them.
RECORDED_FIELDS = (
    "decision_number",
    "decision_date",
    "ministries",
    "new_due_date",
    "supplement_documents",
)


@dataclass
class Firing:
    """Everything an effect may read or change while a transition is applied."""

    session: Session
    ctx: AppContext
    actor: Actor
    case: Case
    workflow: Workflow
    request: TransitionRequest
    now: datetime
    recorded: dict[str, Any]
    # The case's clock as it was before the transition (for pausing and resuming it).
    clock_before: clock.ClockState


def _issue_dossier_code(f: Firing) -> None:
    agency = f.ctx.settings.agency_code
    day = f.ctx.today().strftime("%y%m%d")
    number = CaseRepository(f.session).next_code_number(agency, day)
    f.case.code = f"{agency}-{day}-{number:04d}"
    f.recorded["code"] = f.case.code


def _record_receipt(f: Firing) -> None:
    f.case.received_at = f.now
    f.recorded["received_at"] = f.now.isoformat()


def _open_consultations(f: Firing) -> None:
    ministries = consultations.resolve_ministries(f.session, f.actor, f.request.ministries or [])
    spec = f.workflow.definition.consultation
    days = spec.deadline_working_days if spec else 10
    due = f.ctx.calendar.add_working_days(f.ctx.today(), days)
    consultations.open_round(f.session, f.case.id, ministries, f.now, due)
    f.recorded["consultation_due_at"] = due.isoformat()


def _close_consultations(f: Firing) -> None:
    f.recorded["closed_consultations"] = consultations.close_round(f.session, f.case.id, f.now)


def _pause_clock(f: Firing) -> None:
    f.recorded["clock"] = clock.pause(f.case, f.clock_before, f.ctx.today(), f.ctx.calendar)


def _resume_clock(f: Firing) -> None:
    f.recorded["clock"] = clock.resume(f.case, f.clock_before, f.ctx.today(), f.ctx.calendar)


def _extend_deadline(f: Firing) -> None:
    assert f.request.new_due_date is not None  # a required field of the action
    f.recorded.update(
        clock.extend(f.case, f.request.new_due_date, f.now, f.ctx.today(), f.ctx.calendar)
    )


def _issue_receipt(f: Firing) -> None:
    f.recorded[letters.RECEIPT] = letters.issue_receipt(
        f.session, f.ctx, f.actor, f.case, f.workflow, f.now
    )


def _issue_supplement_notice(f: Firing) -> None:
    f.recorded[letters.SUPPLEMENT_NOTICE] = letters.issue_supplement_notice(
        f.session,
        f.ctx,
        f.actor,
        f.case,
        f.workflow,
        f.now,
        reason=f.request.reason or "",
        documents=f.request.supplement_documents or [],
        clock=f.recorded.get("clock", {}),
    )


EFFECTS: dict[str, Callable[[Firing], None]] = {
    "issue_dossier_code": _issue_dossier_code,
    "record_receipt": _record_receipt,
    "open_consultations": _open_consultations,
    "close_consultations": _close_consultations,
    "pause_clock": _pause_clock,
    "resume_clock": _resume_clock,
    "extend_deadline": _extend_deadline,
    "issue_receipt": _issue_receipt,
    "issue_supplement_notice": _issue_supplement_notice,
}


def _consultations_settled(session: Session, case: Case, today: date) -> list[Missing]:
    return [
        Missing(kind="consultation", name=slug, message="has not answered and is not yet overdue")
        for slug in consultations.unsettled(session, case.id, today)
    ]


def _extension_available(session: Session, case: Case, today: date) -> list[Missing]:
    """One extension per state visit: name the one already given, if any."""
    if case.extended_at is None:
        return []
    first = next(
        (
            e
            for e in reversed(HistoryRepository(session).for_case(case.id))
            if e.action == "extend_deadline"
        ),
        None,
    )
    if first is None:
        message = f"the deadline was already extended on {case.extended_at.isoformat()}"
    else:
        message = (
            f"the deadline was already extended once in this state: history #{first.seq}, "
            f"{first.at.isoformat()}, by {first.actor_org} ({first.actor_role}), from "
            f"{first.fields.get('original_due_at')} to {first.fields.get('new_due_date')}: "
            f"{first.reason}"
        )
    return [Missing(kind="extension", name="extend_deadline", message=message)]


GUARDS: dict[str, Callable[[Session, Case, date], list[Missing]]] = {
    "consultations_settled": _consultations_settled,
    "extension_available": _extension_available,
}


def _lacking(
    session: Session, ctx: AppContext, case: Case, spec: TransitionSpec, present: set[str]
) -> list[Missing]:
    """What the case itself lacks for `spec`: documents and unmet guards (not request fields)."""
    missing = [Missing(kind="document", name=doc) for doc in spec.documents if doc not in present]
    for guard in spec.guards:
        missing.extend(GUARDS[guard](session, case, ctx.today()))
    return missing


def allowed_actions(
    session: Session, ctx: AppContext, actor: Actor, record: access.CaseRecord
) -> list[AllowedAction]:
    """The actions the actor's role may fire from the case's state, with what each still lacks."""
    case, workflow = record.case, record.workflow
    specs = [t for t in workflow.actions_from(case.state).values() if actor.role in t.roles]
    if not specs:
        return []
    present = DocumentRepository(session).current_types(case.id)
    return [
        AllowedAction(
            action=spec.action,
            dest=_destination(workflow, case, spec),
            fields=list(spec.fields),
            missing=_lacking(session, ctx, case, spec, present),
        )
        for spec in specs
    ]


def _destination(workflow: Workflow, case: Case, spec: TransitionSpec) -> str | None:
    try:
        return workflow.fire(CaseToken(case.state, case.return_state), spec.action)
    except LookupError:
        return None


def _check_fields(spec: TransitionSpec, request: TransitionRequest) -> list[Missing]:
    """Refuse fields the action does not take (422); list required ones that are absent."""
    optional = {"comment", "reason", *spec.optional_fields}
    given = request.model_dump(exclude_unset=True, exclude_none=True, exclude={"action"})
    unexpected = sorted(set(given) - set(spec.fields) - optional)
    if unexpected:
        raise InvalidInput(
            f"{request.action!r} does not take {', '.join(unexpected)}",
            {name: "not accepted by this action" for name in unexpected},
        )
    return [
        Missing(kind="field", name=name)
        for name in spec.fields
        if getattr(request, name) in (None, "", [])
    ]


def fire(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    case_id: uuid.UUID,
    expected_version: int,
    request: TransitionRequest,
) -> access.CaseRecord:
    record = access.load(session, ctx, actor, case_id)
    case, workflow = record.case, record.workflow
    access.check_version(case, expected_version)

    everywhere = [t for t in workflow.definition.transitions if t.action == request.action]
    if not everywhere:
        raise InvalidInput(f"unknown action {request.action!r}", {"action": "unknown"})
    if not any(actor.role in t.roles for t in everywhere):
        raise Forbidden(f"the {actor.role} role may not {request.action}")
    spec = workflow.transition(case.state, request.action)
    if spec is None:
        allowed = [a for a, t in workflow.actions_from(case.state).items() if actor.role in t.roles]
        raise TransitionNotAllowed(
            f"{request.action!r} is not possible from {case.state!r}",
            {"state": case.state, "allowed": allowed},
        )
    if actor.role not in spec.roles:
        raise Forbidden(f"the {actor.role} role may not {request.action} from {case.state!r}")

    missing = _check_fields(spec, request)
    present = DocumentRepository(session).current_types(case.id)
    missing += _lacking(session, ctx, case, spec, present)
    if missing:
        raise RequirementsMissing(
            f"{request.action!r} needs more before it can be done",
            {"missing": [m.model_dump(exclude_none=True) for m in missing]},
        )

    now = ctx.now()
    from_state = case.state
    clock_before = clock.ClockState.of(case)
    dest = workflow.fire(CaseToken(case.state, case.return_state), request.action)
    _enter(ctx, workflow, case, from_state, dest, now)
    taken = set(spec.fields) | set(spec.optional_fields)
    recorded: dict[str, Any] = {
        name: _plain(getattr(request, name))
        for name in RECORDED_FIELDS
        if name in taken and getattr(request, name) is not None
    }
    # Saving first takes the case's row: a concurrent transition now waits, then fails with 412.
    access.save(session, case, now)
    firing = Firing(session, ctx, actor, case, workflow, request, now, recorded, clock_before)
    for effect in spec.effects:
        EFFECTS[effect](firing)
    if case.due_at is not None:
        recorded["due_at"] = case.due_at.isoformat()
    case.refresh_search_text()
    session.flush()
    history.append(
        session,
        case_id=case.id,
        actor=actor,
        action=request.action,
        from_state=from_state,
        to_state=dest,
        at=now,
        comment=request.comment,
        reason=request.reason,
        fields=recorded,
    )
    emit(
        session,
        "case.transitioned",
        case.id,
        {
            "action": request.action,
            "from_state": from_state,
            "to_state": dest,
            "version": case.version,
            "code": case.code,
        },
        at=now,
    )
    return record


def _enter(
    ctx: AppContext, workflow: Workflow, case: Case, from_state: str, dest: str, now: datetime
) -> None:
    """Move the case into `dest` with a fresh clock; staying in a state keeps its clock.

    Effects named in the workflow file (`pause_clock`, `resume_clock`) adjust it afterwards.
    """
    if dest == from_state:
        return
    state = workflow.definition.states[dest]
    case.state = dest
    case.state_entered_at = now
    clock.start(case, state.deadline_working_days, ctx.today(), ctx.calendar)
    if workflow.remembers_origin(dest):
        case.return_state = from_state
    elif case.return_state == dest:
        case.return_state = None


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value
