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

from app.auth.actor import Actor
from app.cases import service as cases
from app.cases.models import Case
from app.cases.repository import CaseRepository
from app.cases.schemas import AllowedAction, Missing, TransitionRequest
from app.consultations import service as consultations
from app.core.context import AppContext
from app.core.errors import Forbidden, InvalidInput, RequirementsMissing, TransitionNotAllowed
from app.deadlines.calendar import add_working_days
from app.documents.repository import DocumentRepository
from app.engine.definition import TransitionSpec
from app.engine.workflow import CaseToken, Workflow
from app.events.service import emit
from app.history import service as history

# Fields whose value goes into the history entry when a transition requires them.
RECORDED_FIELDS = ("decision_number", "decision_date", "ministries")


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
    due = add_working_days(f.ctx.today(), days)
    consultations.open_round(f.session, f.case.id, ministries, f.now, due)
    f.recorded["consultation_due_at"] = due.isoformat()


def _close_consultations(f: Firing) -> None:
    f.recorded["closed_consultations"] = consultations.close_round(f.session, f.case.id, f.now)


EFFECTS: dict[str, Callable[[Firing], None]] = {
    "issue_dossier_code": _issue_dossier_code,
    "record_receipt": _record_receipt,
    "open_consultations": _open_consultations,
    "close_consultations": _close_consultations,
}


def _consultations_settled(session: Session, case: Case, today: date) -> list[Missing]:
    return [
        Missing(kind="consultation", name=slug, message="has not answered and is not yet overdue")
        for slug in consultations.unsettled(session, case.id, today)
    ]


GUARDS: dict[str, Callable[[Session, Case, date], list[Missing]]] = {
    "consultations_settled": _consultations_settled,
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
    session: Session, ctx: AppContext, actor: Actor, record: cases.CaseRecord
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
    optional = {"comment", "reason"}
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
) -> cases.CaseRecord:
    record = cases.load(session, ctx, actor, case_id)
    case, workflow = record.case, record.workflow
    cases.check_version(case, expected_version)

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
    dest = workflow.fire(CaseToken(case.state, case.return_state), request.action)
    _enter(ctx, workflow, case, from_state, dest, now)
    recorded: dict[str, Any] = {
        name: _plain(getattr(request, name)) for name in RECORDED_FIELDS if name in spec.fields
    }
    # Saving first takes the case's row: a concurrent transition now waits, then fails with 412.
    cases.save(session, case, now)
    firing = Firing(session, ctx, actor, case, workflow, request, now, recorded)
    for effect in spec.effects:
        EFFECTS[effect](firing)
    if case.due_at is not None:
        recorded["due_at"] = case.due_at.isoformat()
    cases.refresh_search_text(case)
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
    """Move the case into `dest`, setting its clock; staying in a state keeps its clock."""
    if dest == from_state:
        return
    state = workflow.definition.states[dest]
    case.state = dest
    case.state_entered_at = now
    case.due_at = (
        add_working_days(ctx.today(), state.deadline_working_days)
        if state.deadline_working_days
        else None
    )
    if workflow.remembers_origin(dest):
        case.return_state = from_state
    elif case.return_state == dest:
        case.return_state = None


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value
