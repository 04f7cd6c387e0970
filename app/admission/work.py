"""The work queue: the cases where the caller's organisation and role must act now.

A case waits for a role in the states whose `acting_roles` (in the workflow file) name it; a
consulted ministry's case waits for it while its consultation is open and unanswered. Each
item says what the caller may do and what each action still lacks.
"""

from sqlalchemy.orm import Session

from app import access
from app.admission.labels import labelled_actions
from app.admission.lifecycle import allowed_actions
from app.auth.actor import Actor
from app.cases.repository import waiting_page
from app.cases.schemas import AllowedAction, Missing, WorkflowRef, WorkItem, WorkOut
from app.cases.views import is_overdue
from app.consultations.repository import ConsultationRepository
from app.context import AppContext
from app.core.i18n import DEFAULT as DEFAULT_LANG
from app.core.i18n import Lang
from app.core.schemas import Localised
from app.deadlines.clock import overdue_days
from app.documents.repository import DocumentRepository
from app.engine.roles import Role
from app.pipeline.service import decode_cursor, encode_cursor

ANSWER = "answer_consultation"


def waiting_states(ctx: AppContext, role: Role) -> list[tuple[str, int, str]]:
    return [
        (wf.key, wf.version, name)
        for wf in ctx.workflows
        for name, spec in wf.definition.states.items()
        if role in spec.acting_roles
    ]


def queue(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    *,
    cursor: str | None,
    limit: int,
    lang: Lang = DEFAULT_LANG,
) -> WorkOut:
    after = decode_cursor(cursor)
    rows = waiting_page(
        session,
        actor,
        waiting_states(ctx, actor.role),
        (after.due_at, after.created_at, after.id) if after else None,
        limit + 1,
    )
    today = ctx.today()
    items = []
    for case, slug in rows[:limit]:
        workflow = ctx.workflows.find(case.workflow_key, case.workflow_version)
        if workflow is None:
            continue  # its version is not loaded: nothing can be done with it here
        record = access.CaseRecord(case, slug, workflow)
        state = workflow.definition.states[case.state]
        items.append(
            WorkItem(
                id=case.id,
                code=case.code,
                applicant_name=case.applicant_name,
                province=case.province,
                state=case.state,
                state_label=Localised(vi=state.label.vi, en=state.label.en),
                version=case.version,
                workflow=WorkflowRef(key=workflow.key, version=workflow.version),
                due_at=case.due_at,
                overdue=is_overdue(case.due_at, today),
                overdue_days=overdue_days(case.due_at, today),
                waiting_for=[r.value for r in state.acting_roles],
                actions=labelled_actions(
                    _actions(session, ctx, actor, record), lang, ctx.workflows, workflow
                ),
            )
        )
    next_cursor = encode_cursor(rows[limit - 1][0]) if len(rows) > limit else None
    return WorkOut(items=items, next_cursor=next_cursor)


def _actions(
    session: Session, ctx: AppContext, actor: Actor, record: access.CaseRecord
) -> list[AllowedAction]:
    actions = allowed_actions(session, ctx, actor, record)
    if actor.role is Role.CONSULTED:
        actions.append(answer_action(session, actor, record))
    return actions


def answer_action(session: Session, actor: Actor, record: access.CaseRecord) -> AllowedAction:
    """Answering the ministry's open consultation: its opinion document must be on file,
    uploaded since the consultation opened."""
    spec = record.workflow.definition.consultation
    opinion_type = spec.opinion_document if spec else "ministry_opinion"
    consultation = ConsultationRepository(session).open_for(record.case.id, actor.org_id)
    opinion = DocumentRepository(session).current(record.case.id, opinion_type, actor.org_id)
    missing = []
    lacking = (
        opinion is None
        or opinion.rejected_at is not None
        or (consultation is not None and opinion.uploaded_at < consultation.opened_at)
    )
    if lacking:
        missing.append(Missing(kind="document", name=opinion_type))
    return AllowedAction(action=ANSWER, dest=None, fields=["verdict"], missing=missing)
