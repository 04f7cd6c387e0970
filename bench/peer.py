"""The peer: the same admission process run by SpiffWorkflow in process, from
bench/qtsc-chain-admission.bpmn (see bench/bpmn.py), serialised to JSON after each step as
its users store a workflow between two user actions.

A step: put the chosen action in the ready user task's data, run it, run the engine steps
that follow (the gateway), serialise the workflow. "Stored between steps" also deserialises it
first, as a service answering one request per step would. SpiffWorkflow is not a dependency
of the service: `pip install -e ".[bench]"`.
"""

import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

from bench.common import Bench
from bench.requests import TITLE as REQUESTS_TITLE
from bench.requests import TRANSITION_ROW

BPMN = Path(__file__).with_name("qtsc-chain-admission.bpmn")
PROCESS_ID = "qtsc_chain_admission"
TITLE = "Peer: SpiffWorkflow in process"
NOTE = (
    "Steps per second in one process, no database, no HTTP. The service's rows: its audited "
    "HTTP transition at 16 clients from the request table (median), as a share of the peer's "
    "record_site_visit steps/s, serialised after each step and stored (deserialised too)."
)
# A dossier from draft to member: the history the scale table gives each case (~8 entries).
LIFECYCLE: list[tuple[str, dict[str, str]]] = [
    ("submit", {}),
    ("accept", {}),
    ("record_site_visit", {}),
    ("propose_to_ministry", {}),
    ("open_consultation", {}),
    ("close_consultation", {}),
    ("submit_to_pm", {}),
    ("approve", {}),
    ("activate", {}),
]
SITE_VISITS = 8
FORMATS = {"steps/s": "{:,.0f}", "share of serialised": "{:.1%}", "share of stored": "{:.1%}"}


class Spiff:
    """The parsed process and a serializer, made once (as a service would at start-up)."""

    def __init__(self) -> None:
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer

        parser = BpmnParser()
        parser.add_bpmn_file(str(BPMN))
        self.spec = parser.get_spec(PROCESS_ID)
        self.serializer = BpmnWorkflowSerializer()

    def new(self) -> Any:
        from SpiffWorkflow.bpmn import BpmnWorkflow

        workflow = BpmnWorkflow(self.spec)
        workflow.do_engine_steps()
        return workflow

    def step(self, workflow: Any, action: str, data: dict[str, str]) -> str:
        """Fire `action` on the ready user task; returns the serialised workflow."""
        from SpiffWorkflow.util.task import TaskState

        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        if task is None:
            raise RuntimeError(f"no user task is ready for {action!r}")
        task.data.update(action=action, **data)
        task.run()
        workflow.do_engine_steps()
        return str(self.serializer.serialize_json(workflow))

    def load(self, stored: str) -> Any:
        return self.serializer.deserialize_json(stored)

    def state(self, workflow: Any) -> str:
        from SpiffWorkflow.util.task import TaskState

        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        return "(ended)" if task is None else str(task.task_spec.name)


def _steps_per_second(spiff: Spiff, duration: float, stored: bool, site_visits: bool) -> float:
    """Dossiers driven one after another for `duration` s; steps/s of the timed steps."""
    steps, timed = 0, 0.0
    deadline = time.perf_counter() + duration
    while time.perf_counter() < deadline:
        workflow = spiff.new()
        if site_visits:
            for action, data in LIFECYCLE[:2]:  # into council review, not timed
                spiff.step(workflow, action, data)
            plan = [("record_site_visit", {})] * SITE_VISITS
        else:
            plan = LIFECYCLE
        saved = spiff.step(workflow, *plan[0]) if stored else ""
        started = time.perf_counter()
        for action, data in plan[1:] if stored else plan:
            if stored:
                workflow = spiff.load(saved)
            saved = spiff.step(workflow, action, data)
        timed += time.perf_counter() - started
        steps += len(plan) - 1 if stored else len(plan)
        expected = "council_review" if site_visits else "member"
        if site_visits and spiff.state(workflow) != expected:
            raise RuntimeError(f"the peer ended in {spiff.state(workflow)}, not {expected}")
        if not site_visits and spiff.state(workflow) != "(ended)":
            raise RuntimeError(f"the peer's dossier did not end: {spiff.state(workflow)}")
    return steps / timed


ROWS: dict[str, Callable[[Spiff, float], float]] = {
    "SpiffWorkflow, draft to member (9 steps), serialised after each": lambda s, d: (
        _steps_per_second(s, d, stored=False, site_visits=False)
    ),
    "SpiffWorkflow, draft to member, stored between steps": lambda s, d: _steps_per_second(
        s, d, stored=True, site_visits=False
    ),
    "SpiffWorkflow, record_site_visit ×8, serialised after each": lambda s, d: _steps_per_second(
        s, d, stored=False, site_visits=True
    ),
    "SpiffWorkflow, record_site_visit ×8, stored between steps": lambda s, d: _steps_per_second(
        s, d, stored=True, site_visits=True
    ),
}
SERIALISED = "SpiffWorkflow, record_site_visit ×8, serialised after each"
STORED = "SpiffWorkflow, record_site_visit ×8, stored between steps"


def run(bench: Bench) -> None:
    try:
        spiff = Spiff()
    except ImportError:
        bench.report.remark(TITLE, "SpiffWorkflow", 'not installed: pip install -e ".[bench]"')
        return
    table = bench.report.table(TITLE, NOTE, FORMATS)
    for n in range(bench.options.runs):
        print(f"  peer, run {n + 1}/{bench.options.runs}", flush=True)
        for row, measure in ROWS.items():
            table.add(row, "steps/s", measure(spiff, bench.options.duration))
    serialised = median(table.values[SERIALISED, "steps/s"])
    stored = median(table.values[STORED, "steps/s"])
    for backend in ("sqlite", "postgresql"):
        requests = bench.report.tables.get(REQUESTS_TITLE.format(backend=backend))
        if requests is None or not requests.values.get((TRANSITION_ROW, "req/s")):
            continue
        ours = median(requests.values[TRANSITION_ROW, "req/s"])
        row = f"service over HTTP ({backend}), record_site_visit, 16 clients"
        table.add(row, "steps/s", ours)
        table.add(row, "share of serialised", ours / serialised)
        table.add(row, "share of stored", ours / stored)
