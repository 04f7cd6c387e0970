"""What the case page offers its reader to do: one form per action the reader may take (with
exactly that action's fields and what it still lacks), the uploads the reader may make, the
consultation answer of a consulted ministry, document review, and the letters to download.

The page sends the version it was rendered from as `If-Match`; a page left open while someone
else acted is refused (412) and says so, never overwriting what it has not seen.
"""

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app import access
from app.admission import lifecycle
from app.admission.work import answer_action
from app.auth.actor import Actor
from app.auth.repository import organisations_of_kind
from app.cases.schemas import Missing
from app.consultations.repository import ConsultationRepository
from app.context import AppContext
from app.documents.models import Document
from app.documents.review import may_review
from app.engine import vocabulary
from app.engine.roles import OrgKind, Role
from app.engine.workflow import Workflow
from app.letters.service import RECEIPT, SUPPLEMENT_NOTICE
from app.web.i18n import Words

# The order fields appear in, whatever the workflow file lists.
FIELD_ORDER = (
    "reason",
    "decision_number",
    "decision_date",
    "ministries",
    "new_due_date",
    "supplement_documents",
    "comment",
)


@dataclass
class FieldInput:
    name: str
    label: str
    required: bool
    # For choices (ministries, documents to supply): (value, label).
    choices: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ActionForm:
    action: str
    label: str
    fields: list[FieldInput]
    missing: list[str]


@dataclass
class UploadSlot:
    doc_type: str
    label: str


@dataclass
class Letter:
    id: str
    label: str
    filename: str
    newest: bool


@dataclass
class Panel:
    version: int
    actions: list[ActionForm]
    uploads: list[UploadSlot]
    # The consulted ministry's open consultation: its id and what the answer still lacks.
    answer: tuple[str, list[str]] | None
    reviewable: list[tuple[str, str]]
    letters: list[Letter]
    verdicts: list[tuple[str, str]]

    @property
    def empty(self) -> bool:
        return not (self.actions or self.uploads or self.answer or self.reviewable)


def panel(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    record: access.CaseRecord,
    docs: list[tuple[Document, str]],
    words: Words,
) -> Panel:
    workflow = record.workflow
    types = workflow.definition.document_types
    lang = words.lang

    def label(doc_type: str) -> str:
        spec = types.get(doc_type)
        return (spec.label.vi if lang == "vi" else spec.label.en) if spec else doc_type

    forms = []
    for allowed in lifecycle.allowed_actions(session, ctx, actor, record):
        spec = workflow.transition(record.case.state, allowed.action)
        if spec is None:
            continue
        taken = {*spec.fields, *spec.optional_fields, "comment"}
        fields = [
            FieldInput(
                name,
                words.get(name),
                name in spec.fields,
                _choices(session, ctx, actor, name, label),
            )
            for name in FIELD_ORDER
            if name in taken
        ]
        forms.append(
            ActionForm(
                allowed.action,
                words.action(allowed.action),
                fields,
                missing_words(workflow, allowed.missing, words),
            )
        )
    state = record.case.state
    consultation = None
    if actor.role is Role.CONSULTED:
        consultation = ConsultationRepository(session).open_for(record.case.id, actor.org_id)
    uploads = [
        UploadSlot(name, label(name))
        for name, spec in types.items()
        if not spec.generated
        and actor.role in spec.uploaded_by
        and (spec.upload_states is None or state in spec.upload_states)
        and (actor.role is not Role.CONSULTED or consultation is not None)
    ]
    answer = None
    if consultation is not None and consultation.answered_at is None:
        lacking = answer_action(session, actor, record).missing
        answer = (str(consultation.id), missing_words(workflow, lacking, words))
    reviewable = []
    if may_review(actor, record):
        reviewable = [
            (str(doc.id), f"{label(doc.doc_type)} — {doc.filename}")
            for doc, _ in docs
            if doc.superseded_at is None
            and doc.rejected_at is None
            and not (doc.doc_type in types and types[doc.doc_type].generated)
        ]
    letters = [
        (doc, label(doc.doc_type))
        for doc, _ in docs
        if doc.doc_type in (RECEIPT, SUPPLEMENT_NOTICE) and actor.role is not Role.VIEWER
    ]
    letters.sort(key=lambda pair: pair[0].uploaded_at)
    return Panel(
        version=record.case.version,
        actions=forms,
        uploads=uploads,
        answer=answer,
        reviewable=reviewable,
        letters=[
            Letter(str(doc.id), name, doc.filename, index == len(letters) - 1)
            for index, (doc, name) in enumerate(letters)
        ],
        verdicts=[(v, words.verdict(v)) for v in ("agree", "agree_with_conditions", "disagree")],
    )


def _choices(
    session: Session, ctx: AppContext, actor: Actor, name: str, label: object
) -> list[tuple[str, str]]:
    if name == "ministries":
        return [
            (org.slug, org.name)
            for org in organisations_of_kind(session, OrgKind.MINISTRY.value)
            if org.id != actor.org_id
        ]
    if name == "supplement_documents":
        assert callable(label)
        return [(d, label(d)) for d in vocabulary.of(ctx.workflows).supplement_documents]
    return []


def missing_words(workflow: Workflow | None, missing: list[Missing], words: Words) -> list[str]:
    """What an action lacks, in the page's language: documents by their checklist label."""
    out = []
    for m in missing:
        if m.kind == "document" and workflow and m.name in workflow.definition.document_types:
            label = workflow.definition.document_types[m.name].label
            out.append(label.vi if words.lang == "vi" else label.en)
        elif m.kind == "field":
            out.append(words.get(m.name))
        else:
            out.append(m.message or m.name)
    return out
