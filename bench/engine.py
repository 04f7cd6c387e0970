"""Engine overhead of one transition, no I/O: the service's checks and its shared machine, against
a `transitions.Machine` built per case (the library's usual use: one machine per model).

The service's side runs what app/admission/lifecycle.py `fire` runs before it writes anything:
the action and role checks, the request's fields, the documents and guards against what the
case holds (given here, as the database would), then `Workflow.fire` on the shared machine.
"""

import timeit
from collections.abc import Callable
from pathlib import Path

from transitions import Machine

from app.admission import lifecycle
from app.admission.registry import load_workflows
from app.cases.schemas import TransitionRequest
from app.engine.roles import Role
from app.engine.workflow import CaseToken, Workflow
from bench.common import Bench

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
KEY = "qtsc-chain-admission"
TITLE = "Engine overhead of one transition (no I/O)"
NOTE = (
    "µs per transition, `timeit` (best of 5 repeats, per run). The service's checks are those "
    "of `lifecycle.fire` before any write; the documents a case holds are given."
)
SITE_VISIT = ("council_review", "record_site_visit", Role.COUNCIL, {"site_visit_minutes"})


def checks_and_fire(
    workflow: Workflow, state: str, action: str, role: Role, present: set[str]
) -> Callable[[], str]:
    """One transition through the service's engine: checks as in `lifecycle.fire`, then the
    shared machine."""
    request = TransitionRequest(action=action)

    def once() -> str:
        everywhere = [t for t in workflow.definition.transitions if t.action == request.action]
        assert any(role in t.roles for t in everywhere)
        spec = workflow.transition(state, request.action)
        assert spec is not None
        assert role in spec.roles
        missing = lifecycle._check_fields(spec, request)
        missing += [m for m in spec.needed_documents if m not in present]
        assert not spec.guards
        assert not missing
        return workflow.fire(CaseToken(state, None), request.action)

    return once


def machine_per_case(
    workflow: Workflow, state: str, action: str, role: Role, present: set[str]
) -> Callable[[], str]:
    """One transition the way `transitions` is mostly used: a Machine bound to the case,
    built for it, with the role and document checks as conditions."""
    definition = workflow.definition
    specs = [
        {
            "trigger": t.action,
            "source": list(t.source),
            "dest": t.dest if t.dest != "@return" else t.source[0],
            "conditions": [
                lambda event, t=t: event.kwargs["role"] in t.roles,
                lambda event, t=t: all(d in event.kwargs["present"] for d in t.needed_documents),
            ],
        }
        for t in definition.transitions
    ]
    states = list(definition.states)

    def once() -> str:
        token = CaseToken(state)
        machine = Machine(
            model=token,
            states=states,
            transitions=specs,
            initial=state,
            auto_transitions=False,
            send_event=True,
        )
        assert machine.events[action].trigger(token, role=role, present=present)
        return token.state

    return once


def shared_machine_only(workflow: Workflow, state: str, action: str) -> Callable[[], str]:
    return lambda: workflow.fire(CaseToken(state, None), action)


def microseconds(function: Callable[[], object], number: int) -> float:
    function()  # warm up, and fail loudly if it does not fire
    return min(timeit.repeat(function, number=number, repeat=5)) / number * 1e6


def run(bench: Bench) -> None:
    workflow = load_workflows(WORKFLOWS).latest(KEY)
    assert workflow is not None
    submit_docs = set(workflow.definition.document_types)
    rows = {
        "service: shared machine only (`Workflow.fire`)": shared_machine_only(
            workflow, "council_review", "record_site_visit"
        ),
        "service: checks + shared machine, record_site_visit": checks_and_fire(
            workflow, *SITE_VISIT
        ),
        "service: checks + shared machine, submit (6 documents)": checks_and_fire(
            workflow, "draft", "submit", Role.APPLICANT, submit_docs
        ),
        "`transitions.Machine` built per case, record_site_visit": machine_per_case(
            workflow, *SITE_VISIT
        ),
        "`transitions.Machine` built per case, submit": machine_per_case(
            workflow, "draft", "submit", Role.APPLICANT, submit_docs
        ),
    }
    table = bench.report.table(TITLE, NOTE, {"µs": "{:,.1f}"})
    for n in range(bench.options.runs):
        print(f"  engine, run {n + 1}/{bench.options.runs}", flush=True)
        for row, function in rows.items():
            number = 20_000 if row.startswith("service") else 500
            table.add(row, "µs", microseconds(function, number))
