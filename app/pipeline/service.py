"""Where every dossier stands: counts per state and the cases with their due dates.

Dashboards poll this, so it comes with an entity tag that is computed without building the
pipeline: see `tag`. A poll that presents the current tag costs one indexed read.
"""

import hashlib
import statistics
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.cases.views import is_overdue
from app.context import AppContext
from app.core import cursors
from app.core.errors import InvalidInput
from app.core.schemas import Localised
from app.deadlines.clock import overdue_days
from app.engine.loader import WorkflowRegistry
from app.engine.roles import Role
from app.pipeline.repository import PageCursor, PipelineRepository, read_marker
from app.pipeline.schemas import PipelineCase, PipelineOut, StateCount, WorkflowGroup

# Bump when the body's shape changes, so that no old tag matches a new body.
BODY_SHAPE = "5"
DEFAULT_PAGE = 50
MAX_PAGE = 200


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
    page: str = "",
) -> str:
    return tag_on(session.connection(), ctx, actor, workflow, province, page)


def tag_on(
    connection: Connection,
    ctx: AppContext,
    actor: Actor,
    workflow: str | None = None,
    province: str | None = None,
    page: str = "",
) -> str:
    """The ETag of one page (`page` names it) of the pipeline: it changes exactly when a case
    in scope changes what the pipeline shows (each such change writes an event in its
    transaction), when the date passes a due date (a case becomes overdue) and once a day
    (days in state grow). Read it before building the body, so that a body is never older
    than its tag."""
    today = ctx.today()
    newest, upcoming = read_marker(connection, actor, today, workflow, province, ctx.workflows)
    parts = (
        BODY_SHAPE,
        _registry_signature(ctx.workflows),
        _visibility(actor),
        workflow or "",
        province or "",
        page,
        str(newest),
        upcoming.isoformat() if upcoming else "-",
        today.isoformat(),
    )
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f'"{digest}"'


def page_name(limit: int, cursor: str | None) -> str:
    """How a page of the pipeline is named in its tag."""
    return f"{limit}:{cursor or ''}"


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
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE,
) -> PipelineOut:
    """Figures per state and one page of cases; the body's size never grows with the register."""
    today = ctx.today()
    repo = PipelineRepository(session)
    counts = repo.counts(actor, today, workflow, province)
    medians = repo.median_entries(
        actor, workflow, province, {ref: n for ref, (n, _) in counts.items()}
    )
    groups = _groups(ctx, workflow, {key for key, _ in counts})
    labels: dict[tuple[str, str], Localised] = {}
    for key in groups:
        # The latest version's states first, then those only older versions have.
        for wf in sorted((w for w in ctx.workflows if w.key == key), key=lambda w: -w.version):
            for name, spec in wf.definition.states.items():
                labels.setdefault((key, name), Localised(vi=spec.label.vi, en=spec.label.en))
        # A state no loaded version has (a case whose version is not loaded) is named as it is.
        for ref in sorted(r for r in counts if r[0] == key and r not in labels):
            labels[ref] = Localised(vi=ref[1], en=ref[1])
    rows = repo.page(actor, workflow, province, decode_cursor(cursor), limit + 1)
    cases = [
        # Trusted, typed values straight from the database: skip validation.
        PipelineCase.model_construct(
            id=row.id,
            workflow=row.workflow_key,
            code=row.code,
            applicant_name=row.applicant_name,
            province=row.province,
            state=row.state,
            due_at=row.due_at,
            overdue=is_overdue(row.due_at, today),
            overdue_days=overdue_days(row.due_at, today),
            waiting_for=_waiting_for(ctx, row.workflow_key, row.workflow_version, row.state),
        )
        for row in rows[:limit]
    ]
    states = [
        StateCount(
            workflow=key,
            state=name,
            label=label,
            count=counts.get((key, name), (0, 0))[0],
            overdue=counts.get((key, name), (0, 0))[1],
            median_days_in_state=_median_days(ctx, today, medians.get((key, name))),
        )
        for (key, name), label in labels.items()
    ]
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return PipelineOut(
        workflows=[WorkflowGroup(key=key, title=title) for key, title in groups.items()],
        states=states,
        cases=cases,
        next_cursor=next_cursor,
    )


def _groups(ctx: AppContext, workflow: str | None, in_use: set[str]) -> dict[str, Localised]:
    """The workflows the board shows, each with its title: the one asked for, else those
    whose cases are in scope (the default workflow first), else the default one."""
    if workflow:
        known = workflow in in_use or ctx.workflows.latest(workflow) is not None
        keys = [workflow] if known else []
    else:
        default = ctx.default_workflow()
        keys = sorted(in_use, key=lambda k: (k != default, k)) or ([default] if default else [])
    titles: dict[str, Localised] = {}
    for key in keys:
        latest = ctx.workflows.latest(key)
        title = latest.definition.title if latest else None
        titles[key] = Localised(vi=title.vi, en=title.en) if title else Localised(vi=key, en=key)
    return titles


def _waiting_for(ctx: AppContext, key: str, version: int, state: str) -> list[str]:
    """Who acts next; nobody known when the case's workflow version is not loaded."""
    workflow = ctx.workflows.find(key, version)
    spec = workflow.definition.states.get(state) if workflow else None
    return [r.value for r in spec.acting_roles] if spec else []


def _median_days(ctx: AppContext, today: date, middle: list[datetime] | None) -> float | None:
    """Calendar days in state of the middle case (the mean of the two middle ones)."""
    if not middle:
        return None
    return float(statistics.mean((today - ctx.local_date(at)).days for at in middle))


# The pipeline's `next_cursor`: the last case's due day (empty without a running clock),
# creation moment and id.
CURSOR_PATTERN = cursors.anchored(f"(?:{cursors.DAY})?", cursors.MOMENT, cursors.ID)


def encode_cursor(row: Any) -> str:
    due = cursors.day(row.due_at) if row.due_at else ""
    return f"{due}.{cursors.moment(row.created_at)}.{cursors.ident(row.id)}"


def decode_cursor(value: str | None) -> PageCursor | None:
    if not value:
        return None
    parts = cursors.match(CURSOR_PATTERN, value)
    if parts is None:
        raise InvalidInput("invalid cursor", {"cursor": "invalid"})
    due, created, case_id = parts
    return PageCursor(
        cursors.read_day(due) if due else None,
        cursors.read_moment(created),
        cursors.read_ident(case_id),
    )
