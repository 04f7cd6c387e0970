"""The loaded workflow definitions as the API shows them: each key with its versions and how
many cases each holds, and one version in full (states, transitions, document checklist,
deadlines, labels in both languages), so that clients render forms without hard-coding them."""

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.access import visible_cases
from app.auth.actor import Actor
from app.cases.models import Case
from app.context import AppContext
from app.core.errors import NotFound
from app.core.schemas import Localised
from app.engine.definition import Label
from app.engine.workflow import Workflow


class VersionSummary(BaseModel):
    version: int
    title: Localised
    latest: bool
    # Cases pinned to this version among those the caller may see.
    cases: int
    source: str
    content_hash: str


class WorkflowSummary(BaseModel):
    key: str
    title: Localised
    latest_version: int
    default: bool
    versions: list[VersionSummary]


class WorkflowList(BaseModel):
    items: list[WorkflowSummary]


class StateOut(BaseModel):
    name: str
    label: Localised
    acting_roles: list[str]
    portal_code: str | None
    deadline_working_days: int | None
    editable: bool
    terminal: bool
    initial: bool


class TransitionOut(BaseModel):
    action: str
    source: list[str]
    # A state, or "@return": back to the state that asked (`destinations` lists them).
    dest: str
    destinations: list[str]
    roles: list[str]
    documents: list[str]
    fresh_documents: list[str]
    fields: list[str]
    optional_fields: list[str]
    guards: list[str]
    effects: list[str]


class DocumentTypeOut(BaseModel):
    doc_type: str
    label: Localised
    uploaded_by: list[str]
    # null: any state.
    upload_states: list[str] | None
    # A letter the service writes itself, never uploaded.
    generated: bool
    result: bool
    # The actions that need it on file (or new, for `fresh_documents`).
    required_by: list[str]


class DeadlineOut(BaseModel):
    # A state, or "consultation" for each consulted ministry's answer.
    applies_to: str
    working_days: int
    label: Localised


class ConsultationOut(BaseModel):
    deadline_working_days: int
    opinion_document: str
    shared_documents: list[str]


class WorkflowVersionOut(BaseModel):
    key: str
    version: int
    title: Localised
    latest: bool
    source: str
    content_hash: str
    initial: str
    states: list[StateOut]
    transitions: list[TransitionOut]
    documents: list[DocumentTypeOut]
    deadlines: list[DeadlineOut]
    consultation: ConsultationOut | None


def _label(value: Label) -> Localised:
    return Localised(vi=value.vi, en=value.en)


def case_counts(session: Session, actor: Actor) -> dict[tuple[str, int], int]:
    """Cases per workflow version among those the actor may see (one GROUP BY)."""
    rows = session.execute(
        select(Case.workflow_key, Case.workflow_version, func.count())
        .where(visible_cases(actor))
        .group_by(Case.workflow_key, Case.workflow_version)
    )
    return {(key, version): int(n) for key, version, n in rows}


def overview(session: Session, ctx: AppContext, actor: Actor) -> WorkflowList:
    counts = case_counts(session, actor)
    default = ctx.default_workflow()
    by_key: dict[str, list[Workflow]] = {}
    for workflow in ctx.workflows:
        by_key.setdefault(workflow.key, []).append(workflow)
    items = []
    for key in sorted(by_key):
        versions = sorted(by_key[key], key=lambda w: w.version)
        latest = versions[-1]
        items.append(
            WorkflowSummary(
                key=key,
                title=_label(latest.definition.title),
                latest_version=latest.version,
                default=key == default,
                versions=[
                    VersionSummary(
                        version=w.version,
                        title=_label(w.definition.title),
                        latest=w is latest,
                        cases=counts.get((key, w.version), 0),
                        source=w.source,
                        content_hash=w.content_hash,
                    )
                    for w in versions
                ],
            )
        )
    return WorkflowList(items=items)


def loaded(ctx: AppContext, key: str, version: int) -> Workflow:
    workflow = ctx.workflows.find(key, version)
    if workflow is None:
        raise NotFound(f"no workflow {key!r} version {version}")
    return workflow


def detail(ctx: AppContext, key: str, version: int) -> WorkflowVersionOut:
    workflow = loaded(ctx, key, version)
    d = workflow.definition
    latest = ctx.workflows.latest(key)
    required_by: dict[str, list[str]] = {}
    for t in d.transitions:
        for doc in t.needed_documents:
            actions = required_by.setdefault(doc, [])
            if t.action not in actions:
                actions.append(t.action)
    deadlines = [
        DeadlineOut(applies_to=name, working_days=s.deadline_working_days, label=_label(s.label))
        for name, s in d.states.items()
        if s.deadline_working_days is not None
    ]
    if d.consultation is not None:
        opinion = d.document_types.get(d.consultation.opinion_document)
        deadlines.append(
            DeadlineOut(
                applies_to="consultation",
                working_days=d.consultation.deadline_working_days,
                label=_label(opinion.label) if opinion else Localised(vi="", en=""),
            )
        )
    return WorkflowVersionOut(
        key=workflow.key,
        version=workflow.version,
        title=_label(d.title),
        latest=latest is workflow,
        source=workflow.source,
        content_hash=workflow.content_hash,
        initial=d.initial,
        states=[
            StateOut(
                name=name,
                label=_label(s.label),
                acting_roles=[r.value for r in s.acting_roles],
                portal_code=s.portal_code,
                deadline_working_days=s.deadline_working_days,
                editable=s.editable,
                terminal=s.terminal,
                initial=name == d.initial,
            )
            for name, s in d.states.items()
        ],
        transitions=[
            TransitionOut(
                action=t.action,
                source=list(t.source),
                dest=t.dest,
                destinations=list(d.destinations(t)),
                roles=[r.value for r in t.roles],
                documents=list(t.documents),
                fresh_documents=list(t.fresh_documents),
                fields=list(t.fields),
                optional_fields=list(t.optional_fields),
                guards=list(t.guards),
                effects=list(t.effects),
            )
            for t in d.transitions
        ],
        documents=[
            DocumentTypeOut(
                doc_type=name,
                label=_label(spec.label),
                uploaded_by=[r.value for r in spec.uploaded_by],
                upload_states=list(spec.upload_states) if spec.upload_states is not None else None,
                generated=spec.generated,
                result=spec.result,
                required_by=required_by.get(name, []),
            )
            for name, spec in d.document_types.items()
        ],
        deadlines=deadlines,
        consultation=ConsultationOut(
            deadline_working_days=d.consultation.deadline_working_days,
            opinion_document=d.consultation.opinion_document,
            shared_documents=list(d.consultation.shared_documents),
        )
        if d.consultation
        else None,
    )
