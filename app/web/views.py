"""What the dashboard's pages show, gathered from the services the API uses."""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app import access
from app.admission import work
from app.auth.actor import Actor
from app.cases.schemas import WorkItem
from app.cases.views import summary
from app.context import AppContext
from app.documents.models import Document
from app.documents.repository import DocumentRepository
from app.engine.diagram import render_svg
from app.engine.workflow import Workflow
from app.events.repository import EventRepository
from app.history import service as history
from app.pipeline import service as pipeline
from app.pipeline.schemas import PipelineCase
from app.web.forms import missing_words
from app.web.i18n import Lang, Words


@dataclass
class Card:
    case: PipelineCase
    days_late: int
    waiting_for: list[str]


@dataclass
class Column:
    state: str
    label: str
    count: int
    overdue: int
    median_days: float | None = None
    cards: list[Card] = field(default_factory=list)
    workflow: str = ""
    # The element id (the state, prefixed by its workflow when several are shown).
    anchor: str = ""
    # The workflow's title on the first column of its group, when several are shown.
    group: str | None = None


@dataclass
class Board:
    columns: list[Column]
    closed: list[Column]
    late: list[Card]
    total: int
    in_progress: int
    cursor: int


def _terminal_states(ctx: AppContext) -> set[tuple[str, str]]:
    """(workflow key, state) of every terminal state: a name closes one workflow, not all."""
    return {
        (wf.key, name)
        for wf in ctx.workflows
        for name, s in wf.definition.states.items()
        if s.terminal
    }


def board(session: Session, ctx: AppContext, actor: Actor, lang: Lang) -> Board:
    # The cursor is read first: an event committed while the board is built is replayed.
    cursor = EventRepository(session).latest_id(actor, ctx.workflows)
    words = Words(lang)
    today = ctx.today()
    data = pipeline.build(session, ctx, actor)
    terminal = _terminal_states(ctx)
    grouped = len(data.workflows) > 1
    titles = {g.key: g.title.vi if lang == "vi" else g.title.en for g in data.workflows}
    columns: dict[tuple[str, str], Column] = {}
    for s in data.states:
        columns[s.workflow, s.state] = Column(
            s.state,
            s.label.vi if lang == "vi" else s.label.en,
            s.count,
            s.overdue,
            s.median_days_in_state,
            workflow=s.workflow,
            anchor=f"{s.workflow}-{s.state}" if grouped else s.state,
        )
    late: list[Card] = []
    for c in data.cases:
        card = Card(
            c,
            (today - c.due_at).days if c.overdue and c.due_at else 0,
            [words.role(r) for r in c.waiting_for],
        )
        columns[c.workflow, c.state].cards.append(card)
        if c.overdue:
            late.append(card)
    late.sort(key=lambda card: -card.days_late)
    open_columns = [col for ref, col in columns.items() if ref not in terminal]
    closed = [col for ref, col in columns.items() if ref in terminal]
    if grouped:
        for shown in (open_columns, closed):
            for before, col in zip([None, *shown], shown, strict=False):
                if before is None or before.workflow != col.workflow:
                    col.group = titles.get(col.workflow, col.workflow)
    return Board(
        columns=open_columns,
        closed=closed,
        late=late,
        total=len(data.cases),
        in_progress=sum(col.count for col in open_columns),
        cursor=cursor,
    )


@dataclass
class DocumentRow:
    doc_type: str
    label: str
    needed_by: list[str]
    current: list[tuple[Document, str]]
    superseded: list[tuple[Document, str]]

    @property
    def status(self) -> str:
        if not self.current:
            return "missing"
        if all(doc.rejected_at is not None for doc, _ in self.current):
            return "rejected"
        return "present"


@dataclass
class CasePage:
    summary: object
    workflow: Workflow
    state_label: str
    timeline: list[history.Line]
    documents: list[DocumentRow]
    diagram: str
    cursor: int
    record: access.CaseRecord
    docs: list[tuple[Document, str]]


def _checklist(
    workflow: Workflow, docs: list[tuple[Document, str]], words: Words, types: set[str]
) -> list[DocumentRow]:
    needed: dict[str, list[str]] = {}
    for t in workflow.definition.transitions:
        for doc_type in t.needed_documents:
            actions = needed.setdefault(doc_type, [])
            if words.action(t.action) not in actions:
                actions.append(words.action(t.action))
    rows = []
    for doc_type, spec in workflow.definition.document_types.items():
        if doc_type not in types:
            continue
        mine = [(d, slug) for d, slug in docs if d.doc_type == doc_type]
        rows.append(
            DocumentRow(
                doc_type=doc_type,
                label=spec.label.vi if words.lang == "vi" else spec.label.en,
                needed_by=needed.get(doc_type, []),
                current=[(d, s) for d, s in mine if d.superseded_at is None],
                superseded=[(d, s) for d, s in mine if d.superseded_at is not None],
            )
        )
    return rows


def case_page(
    session: Session, ctx: AppContext, actor: Actor, case_id: uuid.UUID, lang: Lang
) -> CasePage:
    cursor = EventRepository(session).latest_id(actor, ctx.workflows)
    record = access.load(session, ctx, actor, case_id)
    words = Words(lang)
    state = record.workflow.definition.states[record.case.state]
    docs = DocumentRepository(session).for_case(
        case_id, access.visible_documents(actor, ctx.workflows)
    )
    return CasePage(
        summary=summary(record, ctx.today()),
        workflow=record.workflow,
        state_label=state.label.vi if lang == "vi" else state.label.en,
        timeline=history.for_reader(session, actor, record.workflow, case_id),
        documents=_checklist(
            record.workflow,
            docs,
            words,
            access.readable_types(actor, record.workflow),
        ),
        diagram=render_svg(record.workflow.definition, lang, current=record.case.state),
        cursor=cursor,
        record=record,
        docs=docs,
    )


def local_time(ctx: AppContext, value: datetime) -> str:
    return value.astimezone(ZoneInfo(ctx.settings.timezone)).strftime("%d/%m/%Y %H:%M")


def local_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


@dataclass
class WorkRow:
    item: WorkItem
    state_label: str
    # (action label, what it still lacks, in words)
    actions: list[tuple[str, list[str]]]


def work_page(session: Session, ctx: AppContext, actor: Actor, lang: Lang) -> list[WorkRow]:
    words = Words(lang)
    out = work.queue(session, ctx, actor, cursor=None, limit=work_limit(ctx))
    rows = []
    for item in out.items:
        case_workflow = ctx.workflows.find(item.workflow.key, item.workflow.version)
        rows.append(
            WorkRow(
                item=item,
                state_label=item.state_label.vi if lang == "vi" else item.state_label.en,
                actions=[
                    (words.action(a.action), missing_words(case_workflow, a.missing, words))
                    for a in item.actions
                ],
            )
        )
    return rows


def work_limit(ctx: AppContext) -> int:
    return ctx.settings.page_size_max
