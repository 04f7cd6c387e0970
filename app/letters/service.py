"""Issuing letters during a transition, and rendering them again from the history.

Everything a letter shows is gathered once, when it is issued, into the input recorded in the
transition's history entry (`fields[<doc_type>]`); the PDF is rendered from that input alone,
filed with the case as a document of the letter's type, and can be rendered again to check it.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app import access
from app.auth.actor import Actor
from app.auth.repository import OrganisationRepository
from app.cases.models import Case
from app.context import AppContext
from app.core.errors import NotFound, ValueConflict
from app.documents import service as documents
from app.documents.models import Document
from app.documents.repository import DocumentRepository
from app.engine.workflow import Workflow
from app.history.repository import HistoryRepository
from app.letters.pdf import RENDERERS, Fonts

RECEIPT = "intake_receipt"
SUPPLEMENT_NOTICE = "supplement_notice"
SHA_PREFIX = 16


def fonts(ctx: AppContext) -> Fonts:
    return Fonts(ctx.settings.letter_font, ctx.settings.letter_font_bold, ctx.zone)


def _org_name(session: Session, org_id: int) -> str:
    org = OrganisationRepository(session).by_id(org_id)
    return org.name if org else str(org_id)


def _person(actor: Actor, key: str) -> dict[str, Any]:
    """The official who acted, named on the letter; an organisation's token names no one (and
    letters issued before people were named render as they did)."""
    return {key: actor.user_name} if actor.user_id is not None and actor.user_name else {}


def _common(session: Session, case: Case, workflow: Workflow) -> dict[str, Any]:
    return {
        "code": case.code,
        "applicant_org": _org_name(session, case.applicant_org_id),
        "applicant_name": case.applicant_name,
        "province": case.province,
        "procedure": workflow.definition.title.vi,
    }


def issue_receipt(
    session: Session, ctx: AppContext, actor: Actor, case: Case, workflow: Workflow, now: datetime
) -> dict[str, Any]:
    """The intake receipt: what was received, when, and the promised date (the new due date)."""
    types = workflow.definition.document_types
    received = [
        doc
        for doc, _ in DocumentRepository(session).for_case(case.id)
        if doc.superseded_at is None
        and doc.rejected_at is None
        and not (doc.doc_type in types and types[doc.doc_type].generated)
    ]
    order = list(types)
    received.sort(
        key=lambda d: (order.index(d.doc_type) if d.doc_type in order else 99, d.filename)
    )
    state = workflow.definition.states[case.state]
    data = {
        **_common(session, case, workflow),
        "receiving_unit": _org_name(session, actor.org_id),
        "received_at": now.isoformat(),
        "promised_date": case.due_at.isoformat() if case.due_at else None,
        "deadline_working_days": state.deadline_working_days,
        "documents": [
            {
                "doc_type": d.doc_type,
                "label": types[d.doc_type].label.vi if d.doc_type in types else d.doc_type,
                "filename": d.filename,
                "sha256_prefix": d.sha256[:SHA_PREFIX],
            }
            for d in received
        ],
        **_person(actor, "received_by"),
    }
    return _issue(session, ctx, actor, case, workflow, RECEIPT, data, now)


def issue_supplement_notice(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    case: Case,
    workflow: Workflow,
    now: datetime,
    *,
    reason: str,
    documents: list[str],
    clock: dict[str, Any],
) -> dict[str, Any]:
    """The supplement notice: what to supply or correct, why, and where the clock stopped."""
    types = workflow.definition.document_types
    unknown = [d for d in documents if d not in types or types[d].generated]
    if unknown or len(set(documents)) != len(documents):
        raise ValueConflict(
            "supplement_documents must list distinct document types of the checklist",
            {"supplement_documents": unknown or "duplicates"},
        )
    # The case is in the supplement state already: what it asks for must be uploadable there,
    # or the dossier could never be resubmitted with it.
    elsewhere = [
        d for d in documents if case.state not in (types[d].upload_states or (case.state,))
    ]
    if elsewhere:
        raise ValueConflict(
            f"supplement_documents may only name documents that can be uploaded while the "
            f"supplement is outstanding (in {case.state!r})",
            {"supplement_documents": elsewhere},
        )
    notice_type = workflow.definition.letter_type(SUPPLEMENT_NOTICE)
    issued_before = sum(
        1 for doc, _ in DocumentRepository(session).for_case(case.id) if doc.doc_type == notice_type
    )
    data = {
        **_common(session, case, workflow),
        "sequence": issued_before + 1,
        "requesting_unit": _org_name(session, actor.org_id),
        "requested_at": now.isoformat(),
        "received_at": case.received_at.isoformat() if case.received_at else None,
        "items": [{"doc_type": d, "label": types[d].label.vi} for d in documents],
        "reason": reason,
        "due_at_before": clock.get("due_at_before"),
        "remaining_working_days": clock.get("remaining_working_days"),
        **_person(actor, "requested_by"),
    }
    return _issue(session, ctx, actor, case, workflow, SUPPLEMENT_NOTICE, data, now)


def _issue(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    case: Case,
    workflow: Workflow,
    letter: str,
    data: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """Render `letter` and file it under the type the workflow file keeps it as (the loader
    refused a file naming the letter's effect without such a type)."""
    doc_type = workflow.definition.letter_type(letter) or letter
    content = RENDERERS[letter](data, now, fonts(ctx))
    document = _file(session, ctx, actor, case, doc_type, content, now)
    return {"document_id": str(document.id), "sha256": document.sha256, "input": data}


def _file(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    case: Case,
    doc_type: str,
    content: bytes,
    now: datetime,
) -> Document:
    """File the letter with the case; the transition saves the case, so no version bump here."""
    stamp = now.astimezone(ctx.zone).strftime("%Y%m%d")
    staged = ctx.store.stage_bytes(content)
    try:
        return documents.record_document(
            session,
            ctx,
            actor,
            case,
            doc_type=doc_type,
            filename=f"{doc_type}-{case.code or case.id}-{stamp}.pdf",
            content_type="application/pdf",
            staged=staged,
            now=now,
        )
    finally:
        ctx.store.discard(staged)


@dataclass(frozen=True)
class Reproduction:
    document_id: uuid.UUID
    doc_type: str
    history_seq: int
    stored_sha256: str
    regenerated_sha256: str

    @property
    def identical(self) -> bool:
        return self.stored_sha256 == self.regenerated_sha256


def render_again(
    session: Session, ctx: AppContext, actor: Actor, case_id: uuid.UUID, doc_id: uuid.UUID
) -> tuple[Reproduction, bytes]:
    """Render a letter again from the history entry that issued it."""
    record = access.load(session, ctx, actor, case_id)
    visible = access.visible_documents(actor, ctx.workflows)
    document = DocumentRepository(session).get(case_id, doc_id, visible)
    letter = record.workflow.definition.letter_of(document.doc_type) if document else None
    if document is None or letter not in RENDERERS:
        raise NotFound("no such letter")
    for entry in HistoryRepository(session).for_case(case_id):
        issued = entry.fields.get(letter)
        if isinstance(issued, dict) and issued.get("document_id") == str(doc_id):
            content = RENDERERS[letter](issued["input"], entry.at, fonts(ctx))
            reproduction = Reproduction(
                document_id=document.id,
                doc_type=document.doc_type,
                history_seq=entry.seq,
                stored_sha256=document.sha256,
                regenerated_sha256=hashlib.sha256(content).hexdigest(),
            )
            return reproduction, content
    raise NotFound("no history entry issued this letter")
