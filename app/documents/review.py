"""Document review: the Council (and the Ministry, in the states where it acts) marks a
document as not acceptable, with a reason.

The document then counts as missing for every requirement (`current_types` leaves rejected
documents out), the applicant reads the reason on its checklist, and the review is a history
entry. It changes what the case lacks, so the case moves to its next version.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app import access
from app.auth.actor import Actor
from app.auth.repository import OrganisationRepository
from app.context import AppContext
from app.core.errors import ActionNotAllowedNow, Forbidden, NotFound
from app.documents.models import Document
from app.documents.repository import DocumentRepository
from app.engine.roles import Role
from app.events.service import emit
from app.history import actions
from app.history import service as history

# Who may review at all; each only in the states where the workflow file lets it act.
REVIEWERS = frozenset({Role.COUNCIL, Role.MINISTRY})


@dataclass(frozen=True)
class Reviewed:
    document: Document
    uploaded_by: str
    case_version: int


def may_review(actor: Actor, record: access.CaseRecord) -> bool:
    state = record.workflow.definition.states[record.case.state]
    return actor.role in REVIEWERS and actor.role in state.acting_roles


def reject(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    case_id: uuid.UUID,
    doc_id: uuid.UUID,
    expected_version: int,
    reason: str,
) -> Reviewed:
    """Mark the document not acceptable; 409 if it is superseded, already refused or a
    letter the service issued."""
    record = access.load(session, ctx, actor, case_id, lock=True)
    case = record.case
    if actor.role not in REVIEWERS:
        raise Forbidden(f"the {actor.role} role does not review documents")
    visible = access.visible_documents(actor, ctx.workflows)
    document = DocumentRepository(session).get(case_id, doc_id, visible)
    if document is None:
        raise NotFound("no such document")
    access.check_version(case, expected_version)
    if not may_review(actor, record):
        raise ActionNotAllowedNow(
            f"the {actor.role} role does not review documents in state {case.state!r}",
            {"state": case.state},
        )
    spec = record.workflow.definition.document_types.get(document.doc_type)
    if spec is not None and spec.generated:
        raise ActionNotAllowedNow(f"{document.doc_type} is a letter the service issued")
    if document.superseded_at is not None:
        raise ActionNotAllowedNow("this document has been replaced; review the current one")
    if document.rejected_at is not None:
        raise ActionNotAllowedNow("this document is already marked not acceptable")
    now = ctx.now()
    document.rejected_at = now
    document.rejection_reason = reason
    history.append(
        session,
        case=case,
        actor=actor,
        action=actions.REVIEW_DOCUMENT,
        from_state=case.state,
        to_state=case.state,
        at=now,
        reason=reason,
        fields={
            "doc_type": document.doc_type,
            "document_id": str(document.id),
            "verdict": "not_acceptable",
        },
    )
    access.save(session, case, now)
    emit(
        session,
        "document.reviewed",
        case.id,
        {
            "document_id": str(document.id),
            "doc_type": document.doc_type,
            "verdict": "not_acceptable",
            "version": case.version,
        },
        at=now,
    )
    uploader = OrganisationRepository(session).by_id(document.uploaded_by_org_id)
    return Reviewed(document, uploader.slug if uploader else "", case.version)
