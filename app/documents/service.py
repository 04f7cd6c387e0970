"""Documents of a case: who may upload which type when, superseding, and reading them back."""

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app import access
from app.auth.actor import Actor
from app.cases.models import Case
from app.consultations.repository import ConsultationRepository
from app.context import AppContext
from app.core.errors import (
    ActionNotAllowedNow,
    Forbidden,
    InvalidInput,
    NotFound,
    UnsupportedType,
    ValueConflict,
)
from app.documents.filenames import clean_filename
from app.documents.models import Document
from app.documents.multipart import ParsedUpload
from app.documents.repository import DocumentRepository
from app.documents.sniff import extension_matches, sniff
from app.engine import vocabulary
from app.engine.roles import Role
from app.events.service import emit
from app.history import actions
from app.history import service as history
from app.storage.base import StagedFile, StoredContent

# The form fields an upload takes besides the file itself.
UPLOAD_FIELDS = frozenset({"doc_type"})


def check_may_upload_now(
    session: Session, ctx: AppContext, actor: Actor, case_id: uuid.UUID
) -> None:
    """Cheap refusal before a body is streamed: the actor can upload no type at all here.

    A role that uploads nothing in this workflow is forbidden (403); one whose documents
    belong to other states is refused for the state (409), as `store_upload` would.
    (`If-Match` waits for the form: a malformed request is told so first, as a JSON one is.)
    """
    record = access.load(session, ctx, actor, case_id)
    state = record.case.state
    specs = [
        spec
        for spec in record.workflow.definition.document_types.values()
        if actor.role in spec.uploaded_by
    ]
    if not specs:
        raise Forbidden(f"the {actor.role} role may not upload documents")
    if not any(spec.upload_states is None or state in spec.upload_states for spec in specs):
        raise ActionNotAllowedNow(
            f"the {actor.role} role may not upload documents in state {state!r}",
            {"state": state},
        )


@dataclass(frozen=True)
class Uploaded:
    document: Document
    # The case's version after the upload (what the case lacks has changed).
    case_version: int


def check_form(upload: ParsedUpload) -> str:
    """The form's `doc_type`; 422 without one, or with a field the upload does not take (as
    for JSON bodies: a field the server does not take is refused, never ignored)."""
    unknown = sorted(set(upload.fields) - UPLOAD_FIELDS)
    if unknown:
        raise InvalidInput(
            f"unknown form fields: {', '.join(unknown)}",
            {name: "not accepted" for name in unknown},
        )
    if "doc_type" not in upload.fields:
        raise InvalidInput("doc_type is required", {"doc_type": "required"})
    return upload.fields["doc_type"]


def store_upload(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    case_id: uuid.UUID,
    upload: ParsedUpload,
    expected_version: int | None = None,
) -> Uploaded:
    """Check the upload against the workflow's rules and record it; the caller discards on error.

    With `expected_version` (the client's optional `If-Match`), the case must still be at it.
    """
    record = access.load(session, ctx, actor, case_id, lock=True)
    case = record.case
    doc_type = check_form(upload)
    spec = record.workflow.definition.document_types.get(doc_type)
    if spec is None:
        known = sorted(record.workflow.definition.document_types)
        # Another workflow file's type is named by the OpenAPI document, so not malformed.
        error = (
            ValueConflict if doc_type in vocabulary.of(ctx.workflows).uploadable else InvalidInput
        )
        raise error(f"unknown document type {doc_type!r}", {"doc_type": known})
    if spec.generated:
        raise Forbidden(f"{doc_type} is issued by the service, not uploaded")
    if expected_version is not None:
        access.check_version(case, expected_version)
    if actor.role not in spec.uploaded_by:
        raise Forbidden(f"the {actor.role} role may not upload {doc_type}")
    if spec.upload_states is not None and case.state not in spec.upload_states:
        raise ActionNotAllowedNow(
            f"{doc_type} cannot be uploaded in state {case.state!r}",
            {"state": case.state, "upload_states": list(spec.upload_states)},
        )
    if (
        actor.role is Role.CONSULTED
        and ConsultationRepository(session).open_for(case.id, actor.org_id) is None
    ):
        raise ActionNotAllowedNow("this ministry has no open consultation on the case")
    filename = clean_filename(upload.filename)
    kind = sniff(upload.staged.head, functools.partial(ctx.store.open_staged, upload.staged))
    if kind is None:
        raise UnsupportedType("only PDF, DOCX, XLSX, PNG and JPEG files are accepted")
    if not extension_matches(kind, filename):
        raise UnsupportedType(
            f"the content is {kind.content_type} but the name says otherwise",
            {"filename": filename, "expected": list(kind.extensions)},
        )

    now = ctx.now()
    document_id = uuid.uuid4()
    history.append(
        session,
        case=case,
        actor=actor,
        action=actions.UPLOAD_DOCUMENT,
        from_state=case.state,
        to_state=case.state,
        at=now,
        fields={
            "doc_type": doc_type,
            "document_id": str(document_id),
            "sha256": upload.staged.sha256,
        },
    )
    # The document changes what the case lacks, so the case moves to its next version.
    access.save(session, case, now)
    document = record_document(
        session,
        ctx,
        actor,
        case,
        doc_type=doc_type,
        filename=filename,
        content_type=kind.content_type,
        staged=upload.staged,
        now=now,
        document_id=document_id,
    )
    return Uploaded(document, case.version)


def record_document(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    case: Case,
    *,
    doc_type: str,
    filename: str,
    content_type: str,
    staged: StagedFile,
    now: datetime,
    document_id: uuid.UUID | None = None,
) -> Document:
    """File checked bytes with the case: the row (superseding the type's current one), the
    file in the store, and the `document.uploaded` event. The caller has saved the case and
    recorded the document in its history (an upload's own entry, or the transition's)."""
    repo = DocumentRepository(session)
    previous = repo.current(case.id, doc_type, actor.org_id)
    document = Document(
        id=document_id or uuid.uuid4(),
        case_id=case.id,
        doc_type=doc_type,
        filename=filename,
        content_type=content_type,
        size=staged.size,
        sha256=staged.sha256,
        uploaded_by_org_id=actor.org_id,
        uploaded_by_role=actor.role.value,
        uploaded_at=now,
    )
    if previous is not None:
        previous.superseded_at = now
        previous.superseded_by_id = document.id
    repo.add(document)
    # The object takes its place only once the row that names it is written (`add` flushes
    # it): `admission gc` waits for every transaction that wrote a document row before it
    # deletes, on whichever host it runs (see app/documents/gc.py).
    ctx.store.commit(staged)
    emit(
        session,
        "document.uploaded",
        case.id,
        {
            "document_id": str(document.id),
            "doc_type": doc_type,
            "uploaded_by": actor.org_slug,
            "sha256": document.sha256,
            "supersedes": str(previous.id) if previous else None,
            "version": case.version,
        },
        at=now,
    )
    return document


def store_generated(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    case_id: uuid.UUID,
    doc_type: str,
    filename: str,
    content: bytes,
) -> Document:
    """Record a file the service produced itself, under the same rules as an upload by `actor`."""
    staged = ctx.store.stage_bytes(content)
    upload = ParsedUpload(fields={"doc_type": doc_type}, filename=filename, staged=staged)
    try:
        return store_upload(session, ctx, actor, case_id, upload).document
    finally:
        ctx.store.discard(upload.staged)


def list_for_case(
    session: Session, ctx: AppContext, actor: Actor, case_id: uuid.UUID
) -> list[tuple[Document, str]]:
    access.load(session, ctx, actor, case_id)
    visible = access.visible_documents(actor, ctx.workflows)
    return DocumentRepository(session).for_case(case_id, visible)


def open_content(
    session: Session, ctx: AppContext, actor: Actor, case_id: uuid.UUID, doc_id: uuid.UUID
) -> tuple[Document, StoredContent]:
    """The document and its bytes opened in the store (the caller streams and closes them)."""
    access.load(session, ctx, actor, case_id)
    if actor.role is Role.VIEWER:
        raise Forbidden("viewers see summaries, not documents' content")
    visible = access.visible_documents(actor, ctx.workflows)
    document = DocumentRepository(session).get(case_id, doc_id, visible)
    if document is None:
        raise NotFound("no such document")
    content = ctx.store.open(document.sha256)
    if content is None:
        raise NotFound("the document's content is missing from storage")
    return document, content
