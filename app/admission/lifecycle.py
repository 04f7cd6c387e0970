"""Firing a transition: authorize, check requirements, apply, record — one transaction.

The workflow file says who may fire what and what it needs; this module enforces it in four
steps, each a function below. The case is written once, after its effects have changed it and
its history entry has moved its chain's head, and its outbox event follows in the same
transaction.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from app import access
from app.access import CaseRecord
from app.admission import freshness
from app.admission.metrics import TRANSITIONS
from app.admission.registry import STEPS
from app.admission.steps import Check, Firing
from app.auth.actor import Actor
from app.cases.models import Case
from app.cases.schemas import AllowedAction, Missing, TransitionRequest
from app.context import AppContext
from app.core.db import after_commit
from app.core.errors import (
    Forbidden,
    InvalidInput,
    RequirementsMissing,
    TransitionNotAllowed,
    ValueConflict,
)
from app.deadlines import clock
from app.documents.repository import DocumentRepository
from app.engine import vocabulary
from app.engine.definition import TransitionSpec
from app.engine.workflow import CaseToken, Workflow
from app.events.service import emit
from app.history import service as history
from app.letters import service as letters

# Request fields kept in their own history columns rather than among the entry's fields.
OWN_COLUMNS = frozenset({"comment", "reason"})


@dataclass
class Fired:
    """A transition that has been applied: the case as it now is, and what it now holds."""

    record: CaseRecord
    # Document types currently on file (those uploaded, plus letters the effects issued).
    present: set[str]


@dataclass
class Change:
    from_state: str
    to_state: str
    at: datetime
    recorded: dict[str, Any]


def fire(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    case_id: uuid.UUID,
    expected_version: int,
    request: TransitionRequest,
) -> Fired:
    check_shape(ctx, request)
    record = access.load(session, ctx, actor, case_id)
    access.check_version(record.case, expected_version)
    spec = authorize(record, actor, request.action)
    present = DocumentRepository(session).current_types(record.case.id)
    check_requirements(session, ctx, record.case, spec, request, present)
    change = apply(session, ctx, actor, record, spec, request)
    record_change(session, ctx, actor, record.case, request, change)
    return Fired(record, present | _letters_issued(record.workflow, change))


def check_shape(ctx: AppContext, request: TransitionRequest) -> None:
    """422 for an action no loaded workflow file defines, or a field no transition of that
    name takes: what the OpenAPI document's per-action bodies rule out, judged before any
    case is read (so before a stale If-Match)."""
    taken = vocabulary.of(ctx.workflows).actions.get(request.action)
    if taken is None:
        raise InvalidInput(f"unknown action {request.action!r}", {"action": "unknown"})
    given = request.model_dump(exclude_unset=True, exclude_none=True, exclude={"action"})
    unexpected = sorted(set(given) - taken)
    if unexpected:
        raise InvalidInput(
            f"{request.action!r} does not take {', '.join(unexpected)}",
            {name: "not accepted by this action" for name in unexpected},
        )
    asked = request.supplement_documents or []
    listed = vocabulary.of(ctx.workflows).supplement_documents
    if [d for d in asked if d not in listed] or len(set(asked)) != len(asked):
        raise InvalidInput(
            "supplement_documents must list distinct document types that can be supplied "
            "while a supplement is outstanding",
            {"supplement_documents": [d for d in asked if d not in listed] or "duplicates"},
        )


def authorize(record: CaseRecord, actor: Actor, action: str) -> TransitionSpec:
    """The transition `action` from the case's state, if the actor's role may fire it."""
    case, workflow = record.case, record.workflow
    everywhere = [t for t in workflow.definition.transitions if t.action == action]
    if not everywhere:
        raise TransitionNotAllowed(
            f"{action!r} is not an action of workflow {workflow.key!r} v{workflow.version}",
            {"state": case.state, "allowed": []},
        )
    if not any(actor.role in t.roles for t in everywhere):
        raise Forbidden(f"the {actor.role} role may not {action}")
    spec = workflow.transition(case.state, action)
    if spec is None:
        allowed = [a for a, t in workflow.actions_from(case.state).items() if actor.role in t.roles]
        raise TransitionNotAllowed(
            f"{action!r} is not possible from {case.state!r}",
            {"state": case.state, "allowed": allowed},
        )
    if actor.role not in spec.roles:
        raise Forbidden(f"the {actor.role} role may not {action} from {case.state!r}")
    return spec


def check_requirements(
    session: Session,
    ctx: AppContext,
    case: Case,
    spec: TransitionSpec,
    request: TransitionRequest,
    present: set[str],
) -> None:
    """409 listing every request field, document and guard the transition still lacks."""
    missing = _check_fields(spec, request) + lacking(Check(session, ctx, case), spec, present)
    if missing:
        raise RequirementsMissing(
            f"{request.action!r} needs more before it can be done",
            {"missing": [m.model_dump(exclude_none=True) for m in missing]},
        )


def apply(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    record: CaseRecord,
    spec: TransitionSpec,
    request: TransitionRequest,
) -> Change:
    """Move the case and run the transition's effects in file order; `record_change` writes it."""
    case, workflow = record.case, record.workflow
    now = ctx.now()
    from_state = case.state
    clock_before = clock.ClockState.of(case)
    dest = workflow.fire(CaseToken(case.state, case.return_state), request.action)
    _enter(ctx, workflow, case, from_state, dest, now)
    taken = (set(spec.fields) | set(spec.optional_fields)) - OWN_COLUMNS
    recorded: dict[str, Any] = {
        name: _plain(value)
        for name in sorted(taken)
        if (value := getattr(request, name)) is not None
    }
    firing = Firing(session, ctx, actor, case, workflow, request, now, clock_before)
    for effect in spec.effects:
        recorded.update(STEPS.apply(effect, firing))
    if case.due_at is not None:
        recorded["due_at"] = case.due_at.isoformat()
    return Change(from_state, dest, now, recorded)


def record_change(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    case: Case,
    request: TransitionRequest,
    change: Change,
) -> None:
    """The history entry, the case written once as its next version, and the outbox event."""
    history.append(
        session,
        case=case,
        actor=actor,
        action=request.action,
        from_state=change.from_state,
        to_state=change.to_state,
        at=change.at,
        comment=request.comment,
        reason=request.reason,
        fields=change.recorded,
    )
    access.save(session, case, change.at)
    emit(
        session,
        "case.transitioned",
        case.id,
        {
            "action": request.action,
            "from_state": change.from_state,
            "to_state": change.to_state,
            "version": case.version,
            "code": case.code,
        },
        at=change.at,
    )
    after_commit(session, TRANSITIONS.labels(request.action).inc)


def allowed_actions(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    record: CaseRecord,
    present: set[str] | None = None,
) -> list[AllowedAction]:
    """The actions the actor's role may fire from the case's state, with what each still lacks.

    `present` (the document types on file) is read from the database unless the caller has it.
    """
    case, workflow = record.case, record.workflow
    specs = [t for t in workflow.actions_from(case.state).values() if actor.role in t.roles]
    if not specs:
        return []
    if present is None:
        present = DocumentRepository(session).current_types(case.id)
    check = Check(session, ctx, case)
    return [
        AllowedAction(
            action=spec.action,
            dest=_destination(workflow, case, spec),
            fields=list(spec.fields),
            missing=lacking(check, spec, present),
        )
        for spec in specs
    ]


def lacking(check: Check, spec: TransitionSpec, present: set[str]) -> list[Missing]:
    """What the case itself lacks for `spec`: documents, documents not new enough, and unmet
    guards (not request fields)."""
    missing = [Missing(kind="document", name=doc) for doc in spec.documents if doc not in present]
    missing.extend(freshness.stale(check, spec))
    for guard in spec.guards:
        missing.extend(STEPS.check(guard, check))
    return missing


def _destination(workflow: Workflow, case: Case, spec: TransitionSpec) -> str | None:
    try:
        return workflow.fire(CaseToken(case.state, case.return_state), spec.action)
    except LookupError:
        return None


def _check_fields(spec: TransitionSpec, request: TransitionRequest) -> list[Missing]:
    """Refuse fields this transition does not take though another of its name does (409:
    `check_shape` has refused the others); list required ones that are absent."""
    optional = {"comment", "reason", *spec.optional_fields}
    given = request.model_dump(exclude_unset=True, exclude_none=True, exclude={"action"})
    unexpected = sorted(set(given) - set(spec.fields) - optional)
    if unexpected:
        raise ValueConflict(
            f"{request.action!r} from {spec.source} does not take {', '.join(unexpected)}",
            {name: "not accepted by this action from this state" for name in unexpected},
        )
    return [
        Missing(kind="field", name=name)
        for name in spec.fields
        if getattr(request, name) in (None, "", [])
    ]


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


def _letters_issued(workflow: Workflow, change: Change) -> set[str]:
    """The document types of the letters the transition filed."""
    issued = {letters.RECEIPT, letters.SUPPLEMENT_NOTICE} & change.recorded.keys()
    return {workflow.definition.letter_type(letter) or letter for letter in issued}


def _plain(value: Any) -> Any:
    """A request field's value as JSON (the history entry stores and hashes it)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value.isoformat() if isinstance(value, date) else value
