"""Where every dossier stands: counts per state and the cases with their due dates."""

from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.cases.views import is_overdue
from app.core.context import AppContext
from app.core.schemas import Localised
from app.pipeline.repository import PipelineRepository
from app.pipeline.schemas import PipelineCase, PipelineOut, StateCount


def build(session: Session, ctx: AppContext, actor: Actor, workflow: str | None) -> PipelineOut:
    today = ctx.today()
    repo = PipelineRepository(session)
    counts = repo.counts(actor, today, workflow)
    labels: dict[str, Localised] = {}
    for wf in ctx.workflows:
        if workflow in (None, wf.key):
            for name, spec in wf.definition.states.items():
                labels.setdefault(name, Localised(vi=spec.label.vi, en=spec.label.en))
    states = [
        StateCount(
            state=name,
            label=label,
            count=counts.get(name, (0, 0))[0],
            overdue=counts.get(name, (0, 0))[1],
        )
        for name, label in labels.items()
    ]
    cases = [
        PipelineCase(
            id=c.id,
            code=c.code,
            applicant_name=c.applicant_name,
            province=c.province,
            state=c.state,
            due_at=c.due_at,
            overdue=is_overdue(c.due_at, today),
        )
        for c in repo.cases(actor, workflow)
    ]
    cases.sort(key=lambda c: not c.overdue)
    return PipelineOut(states=states, cases=cases)
