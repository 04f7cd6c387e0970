"""Where every dossier stands: counts per state and the cases with their due dates.

Dashboards poll this, so it comes with an entity tag that is computed without building the
pipeline: see `tag`. A poll that presents the current tag costs one indexed read.
"""

import hashlib
import statistics
from collections import defaultdict
from functools import cache

from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.cases.views import is_overdue
from app.context import AppContext
from app.core.schemas import Localised
from app.deadlines.clock import overdue_days
from app.engine.loader import WorkflowRegistry
from app.engine.roles import Role
from app.pipeline.repository import PipelineRepository
from app.pipeline.schemas import PipelineCase, PipelineOut, StateCount

# Bump when the body's shape changes, so that no old tag matches a new body.
BODY_SHAPE = "3"


@cache
def _registry_signature(registry: WorkflowRegistry) -> str:
    return ",".join(sorted(f"{wf.key}.v{wf.version}" for wf in registry))


def _visibility(actor: Actor) -> str:
    """Actors that see the same cases see the same pipeline, and may share its tag."""
    if actor.role is Role.APPLICANT:
        return f"applicant:{actor.org_id}"
    if actor.role is Role.CONSULTED:
        return f"consulted:{actor.org_id}"
    return "all"


def tag(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    workflow: str | None = None,
    province: str | None = None,
) -> str:
    """The pipeline's ETag: it changes exactly when a case in scope changes what the pipeline
    shows (each such change writes an event in its transaction), when the date passes a due
    date (a case becomes overdue) and once a day (days in state grow). Read it before
    building the body, so that a body is never older than its tag."""
    newest, upcoming = PipelineRepository(session).marker(actor, ctx.today(), workflow, province)
    parts = (
        BODY_SHAPE,
        _registry_signature(ctx.workflows),
        _visibility(actor),
        workflow or "",
        province or "",
        str(newest),
        upcoming.isoformat() if upcoming else "-",
        ctx.today().isoformat(),
    )
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f'"{digest}"'


def matches(if_none_match: str | None, current: str) -> bool:
    """Whether an If-None-Match header names `current` (weak comparison, lists allowed)."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        value = candidate.strip()
        if value.startswith("W/"):
            value = value[2:]
        if value == current:
            return True
    return False


def build(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    workflow: str | None = None,
    province: str | None = None,
) -> PipelineOut:
    today = ctx.today()
    repo = PipelineRepository(session)
    counts = repo.counts(actor, today, workflow, province)
    labels: dict[str, Localised] = {}
    for wf in ctx.workflows:
        if workflow in (None, wf.key):
            for name, spec in wf.definition.states.items():
                labels.setdefault(name, Localised(vi=spec.label.vi, en=spec.label.en))
    cases = []
    days_in_state: dict[str, list[int]] = defaultdict(list)
    for row in repo.cases(actor, workflow, province):
        days_in_state[row.state].append((today - ctx.local_date(row.state_entered_at)).days)
        definition = ctx.workflows.get(row.workflow_key, row.workflow_version).definition
        # Trusted, typed values straight from the database: skip validation (100k rows).
        cases.append(
            PipelineCase.model_construct(
                id=row.id,
                code=row.code,
                applicant_name=row.applicant_name,
                province=row.province,
                state=row.state,
                due_at=row.due_at,
                overdue=is_overdue(row.due_at, today),
                overdue_days=overdue_days(row.due_at, today),
                waiting_for=[r.value for r in definition.states[row.state].acting_roles],
            )
        )
    states = [
        StateCount(
            state=name,
            label=label,
            count=counts.get(name, (0, 0))[0],
            overdue=counts.get(name, (0, 0))[1],
            median_days_in_state=_median(days_in_state.get(name)),
        )
        for name, label in labels.items()
    ]
    # Overdue first; within each group by due date (the query's order), so the sort is stable.
    cases.sort(key=lambda c: not c.overdue)
    return PipelineOut(states=states, cases=cases)


def _median(days: list[int] | None) -> float | None:
    return float(statistics.median(days)) if days else None
