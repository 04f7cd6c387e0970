"""Moving the running cases of a workflow version to another version, as an audited act.

`plan` works out, for each running case (closed cases keep the version they were decided
under), where it lands: its state by the same name, or where the operator's map sends it. It
refuses the whole migration, listing every case and reason, when a state has no counterpart
and no mapping, or when a case would land in a state whose documents (those the new version
requires on every way into it, and the old one did not) it does not hold; a state the map
names explicitly is the operator's decision and is not checked, and a document that can be
uploaded in the new state can still be supplied there. `run` then moves each case in
its own transaction: the new version and state, a `workflow_migrated` history entry in the
case's hash chain (old and new version and state, who ran it), the case written as its next
version (case reads are kept by version), and a `case.workflow_migrated` event. A case
changed by someone else meanwhile is planned again and retried once, or reported. Cases
already moved are not on the old version any more: running a finished migration again moves
nothing. A case kept in its state keeps its running clock; one the map sends into another
state gets that state's clock (stopped, for a supplement request).
"""

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import access
from app.auth.actor import Actor
from app.cases.models import Case
from app.context import AppContext
from app.core.db import unit_of_work
from app.core.errors import (
    InvalidInput,
    MigrationRefused,
    NotFound,
    ValueConflict,
    VersionMismatch,
)
from app.deadlines import clock
from app.documents.repository import DocumentRepository
from app.engine.requirements import documents_implied
from app.engine.workflow import Workflow
from app.events.service import emit
from app.history import actions
from app.history import service as history

EVENT = "case.workflow_migrated"


@dataclass(frozen=True)
class Move:
    case_id: uuid.UUID
    code: str | None
    applicant_name: str
    # The case's version when it was planned: a later one means someone changed it meanwhile.
    version: int
    from_state: str
    to_state: str
    from_return: str | None = None
    to_return: str | None = None
    # Landed by an explicit --map entry: its documents were not checked.
    mapped: bool = False
    # Documents the new state implies that the case does not hold (explicit maps only).
    lacking: tuple[str, ...] = ()

    def describe(self) -> str:
        where = self.code or str(self.case_id)
        text = f"{where} ({self.applicant_name}): {self.from_state} -> {self.to_state}"
        if self.mapped:
            text += " (mapped)"
        if self.lacking:
            text += f", without {', '.join(self.lacking)}"
        return text


@dataclass(frozen=True)
class Refusal:
    case_id: uuid.UUID
    code: str | None
    applicant_name: str
    state: str
    reason: str

    def describe(self) -> str:
        return f"{self.code or self.case_id} ({self.applicant_name}) in {self.state}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "case_id": str(self.case_id),
            "code": self.code,
            "state": self.state,
            "reason": self.reason,
        }


@dataclass
class Plan:
    key: str
    from_version: int
    to_version: int
    moves: list[Move] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    # Closed cases stay on the version they were decided under.
    closed: int = 0


@dataclass
class Outcome:
    plan: Plan
    dry_run: bool
    moved: list[Move] = field(default_factory=list)
    # Changed by someone else during the migration, and planned again.
    retried: list[uuid.UUID] = field(default_factory=list)
    # Not moved: changed meanwhile into something the migration refuses, or changed twice.
    reported: list[Refusal] = field(default_factory=list)


def versions(
    ctx: AppContext, key: str, from_version: int, to_version: int
) -> tuple[Workflow, Workflow]:
    if ctx.workflows.latest(key) is None:
        raise NotFound(f"no workflow {key!r}")
    if from_version == to_version:
        raise ValueConflict(
            "a migration goes from one version to another", {"to_version": "same as from_version"}
        )
    found = []
    for name, version in (("from_version", from_version), ("to_version", to_version)):
        workflow = ctx.workflows.find(key, version)
        if workflow is None:
            raise ValueConflict(
                f"workflow {key!r} version {version} is not loaded", {name: "not loaded"}
            )
        found.append(workflow)
    return found[0], found[1]


def check_map(old: Workflow, new: Workflow, mapping: Mapping[str, str]) -> None:
    bad = {
        f"{source}={dest}": (
            f"{source!r} is no state of version {old.version}"
            if source not in old.definition.states
            else f"{dest!r} is no state of version {new.version}"
        )
        for source, dest in mapping.items()
        if source not in old.definition.states or dest not in new.definition.states
    }
    if bad:
        raise InvalidInput("the state map names unknown states", {"map": bad})


class Planner:
    """Where each case of `old` lands in `new`, given the operator's map."""

    def __init__(self, old: Workflow, new: Workflow, mapping: Mapping[str, str]) -> None:
        self.old, self.new, self.mapping = old, new, dict(mapping)
        self.implied_old = documents_implied(old.definition)
        self.implied_new = documents_implied(new.definition)

    def target(self, state: str) -> str | None:
        if state in self.mapping:
            return self.mapping[state]
        return state if state in self.new.definition.states else None

    def __call__(self, session: Session, case: Case) -> Move | Refusal:
        def refuse(reason: str) -> Refusal:
            return Refusal(case.id, case.code, case.applicant_name, case.state, reason)

        dest = self.target(case.state)
        if dest is None:
            return refuse(
                f"state {case.state!r} is not in version {self.new.version}; "
                f"map it with {case.state}=<state>"
            )
        to_return = None
        if case.return_state is not None:
            to_return = self.target(case.return_state)
            if to_return is None:
                return refuse(
                    f"it returns to {case.return_state!r}, not in version {self.new.version}; "
                    f"map it with {case.return_state}=<state>"
                )
        if not self.new.remembers_origin(dest):
            to_return = None
        elif to_return is None:
            # Sent into a state that returns the case where it came from (a supplement
            # request): it came from its own state, which the new version must have.
            if case.state == dest or case.state not in self.new.definition.states:
                return refuse(
                    f"{dest!r} returns a case to the state it came from, and {case.state!r} "
                    f"is not a state of version {self.new.version}"
                )
            to_return = case.state
        types = self.new.definition.document_types
        needed = {
            doc
            for doc in self.implied_new[dest] - self.implied_old.get(case.state, frozenset())
            # One that can be uploaded in the new state can still be supplied there.
            if dest not in (types[doc].upload_states or (dest,))
        }
        lacking: tuple[str, ...] = ()
        if needed:
            held = {
                doc.doc_type
                for doc, _ in DocumentRepository(session).for_case(case.id)
                if doc.superseded_at is None and doc.rejected_at is None
            }
            lacking = tuple(d for d in self.new.definition.document_types if d in needed - held)
        mapped = case.state in self.mapping
        if lacking and not mapped:
            return refuse(
                f"version {self.new.version} requires {', '.join(lacking)} in {dest!r}, "
                f"which the case does not hold; map {case.state}=<state> to decide where it goes"
            )
        return Move(
            case.id,
            case.code,
            case.applicant_name,
            case.version,
            case.state,
            dest,
            case.return_state,
            to_return,
            mapped,
            lacking,
        )


def _running(session: Session, workflow: Workflow) -> list[Case]:
    return list(
        session.scalars(
            select(Case)
            .where(Case.workflow_key == workflow.key, Case.workflow_version == workflow.version)
            .order_by(Case.created_at, Case.id)
        )
    )


def plan(
    ctx: AppContext, key: str, from_version: int, to_version: int, mapping: Mapping[str, str]
) -> Plan:
    old, new = versions(ctx, key, from_version, to_version)
    check_map(old, new, mapping)
    planner = Planner(old, new, mapping)
    result = Plan(key, from_version, to_version)
    with unit_of_work(ctx.engine, write=False) as session:
        for case in _running(session, old):
            spec = old.definition.states.get(case.state)
            if spec is not None and spec.terminal:
                result.closed += 1
                continue
            planned = planner(session, case)
            if isinstance(planned, Move):
                result.moves.append(planned)
            else:
                result.refusals.append(planned)
    return result


def run(
    ctx: AppContext,
    actor: Actor,
    key: str,
    from_version: int,
    to_version: int,
    mapping: Mapping[str, str],
    *,
    dry_run: bool = False,
    run_by: str | None = None,
    before_each: Callable[[Move], None] | None = None,
) -> Outcome:
    """Plan, refuse if any case cannot move, else move each case in its own transaction.

    `before_each` is called before each case's transaction (progress, and tests that change a
    case meanwhile)."""
    planned = plan(ctx, key, from_version, to_version, mapping)
    if planned.refusals:
        raise MigrationRefused(
            f"{len(planned.refusals)} running case(s) of {key} v{from_version} cannot move to "
            f"v{to_version}; nothing was changed",
            {"refused": [r.as_dict() for r in planned.refusals]},
        )
    outcome = Outcome(planned, dry_run)
    if dry_run:
        return outcome
    old, new = versions(ctx, key, from_version, to_version)
    planner = Planner(old, new, mapping)
    for move in planned.moves:
        if before_each is not None:
            before_each(move)
        _move_with_retry(ctx, actor, planner, move, outcome, run_by or actor.org_slug)
    return outcome


def _move_with_retry(
    ctx: AppContext, actor: Actor, planner: Planner, move: Move, outcome: Outcome, run_by: str
) -> None:
    for attempt in range(2):
        try:
            with unit_of_work(ctx.engine) as session:
                result = _move_one(session, ctx, actor, planner, move, run_by)
        except VersionMismatch:
            result = "changed"
        if isinstance(result, Move):
            if result.version != move.version + 1 and move.case_id not in outcome.retried:
                outcome.retried.append(move.case_id)  # planned again: changed meanwhile
            outcome.moved.append(result)
            return
        if isinstance(result, Refusal):
            outcome.reported.append(result)
            return
        if result == "gone":
            return
        if attempt == 0:
            outcome.retried.append(move.case_id)
    outcome.reported.append(
        Refusal(
            move.case_id,
            move.code,
            move.applicant_name,
            move.from_state,
            "changed by someone else twice during the migration; run it again",
        )
    )


def _move_one(
    session: Session, ctx: AppContext, actor: Actor, planner: Planner, move: Move, run_by: str
) -> Move | Refusal | str:
    case = session.get(Case, move.case_id)
    old, new = planner.old, planner.new
    if case is None or (case.workflow_key, case.workflow_version) != (old.key, old.version):
        return "gone"  # deleted, or moved by a concurrent run of this migration
    if case.version != move.version:
        # Changed since it was planned: plan it again as it stands now.
        spec = old.definition.states.get(case.state)
        if spec is None or spec.terminal:
            return "gone"  # closed meanwhile: it keeps the version it was decided under
        replanned = planner(session, case)
        if isinstance(replanned, Refusal):
            return replanned
        move = replanned
    now = ctx.now()
    case.workflow_version = new.version
    clock_change = _enter(ctx, new, case, move.to_state, now)
    case.state = move.to_state
    case.return_state = move.to_return
    recorded: dict[str, Any] = {
        "workflow": old.key,
        "from_version": old.version,
        "to_version": new.version,
        "from_state": move.from_state,
        "to_state": move.to_state,
        "run_by": run_by,
    }
    if move.mapped:
        recorded["mapped"] = True
    if move.lacking:
        recorded["lacking"] = list(move.lacking)
    if clock_change:
        recorded["clock"] = clock_change
    if move.from_return != move.to_return:
        recorded["return_state"] = {"from": move.from_return, "to": move.to_return}
    history.append(
        session,
        case=case,
        actor=actor,
        action=actions.WORKFLOW_MIGRATED,
        from_state=move.from_state,
        to_state=move.to_state,
        at=now,
        fields=recorded,
    )
    access.save(session, case, now)
    emit(
        session,
        EVENT,
        case.id,
        {
            "version": case.version,
            "workflow": {"key": old.key, "version": new.version},
            "from": {"version": old.version, "state": move.from_state},
            "to": {"version": new.version, "state": move.to_state},
        },
        at=now,
    )
    return Move(
        move.case_id,
        move.code,
        move.applicant_name,
        case.version,
        move.from_state,
        move.to_state,
        move.from_return,
        move.to_return,
        move.mapped,
        move.lacking,
    )


def _enter(
    ctx: AppContext, new: Workflow, case: Case, dest: str, now: datetime
) -> dict[str, Any] | None:
    """The clock of a case the map sends into another state: stopped, as a supplement request
    stops it, when the state returns the case where it came from and has no deadline of its
    own; else the new state's fresh clock, as a transition into it would start. A case kept
    in its state keeps its clock."""
    if dest == case.state:
        return None
    spec = new.definition.states[dest]
    before = clock.ClockState.of(case)
    case.state_entered_at = now
    if new.remembers_origin(dest) and spec.deadline_working_days is None:
        return clock.pause(case, before, ctx.today(), ctx.calendar)
    clock.start(case, spec.deadline_working_days, ctx.today(), ctx.calendar)
    return {"started": case.due_at.isoformat() if case.due_at else None}


def parse_map(entries: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`old=new` entries as a map; a malformed or repeated one is refused naming it."""
    mapping: dict[str, str] = {}
    for entry in entries:
        source, sep, dest = entry.partition("=")
        source, dest = source.strip(), dest.strip()
        if not sep or not source or not dest:
            raise InvalidInput(f"--map takes old_state=new_state, not {entry!r}", {"map": entry})
        if source in mapping and mapping[source] != dest:
            raise InvalidInput(f"{source!r} is mapped twice", {"map": entry})
        mapping[source] = dest
    return mapping
