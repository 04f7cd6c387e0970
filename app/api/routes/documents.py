import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.api.deps import Context, CurrentActor, DbSession
from app.api.http import (
    IfMatch,
    OptionalIfMatch,
    etag,
    optional_version_from_if_match,
    version_from_if_match,
)
from app.api.limits import upload_body_limit
from app.api.transaction import commits_in_its_thread, end_here, request_transaction
from app.auth.actor import Actor
from app.context import AppContext
from app.core.db import unit_of_work
from app.core.errors import TooLarge
from app.core.schemas import VOCABULARY
from app.documents import review, service, sniff
from app.documents.filenames import content_disposition
from app.documents.models import Document
from app.documents.multipart import ParsedUpload, receive_upload
from app.documents.schemas import DocumentList, DocumentOut, ReviewRequest

router = APIRouter(prefix="/api/v1/cases/{case_id}/documents", tags=["documents"])

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["doc_type", "file"],
                    "properties": {
                        "doc_type": {"type": "string", VOCABULARY: "uploadable_document_types"},
                        "file": {"type": "string", "format": "binary"},
                    },
                    # Any other part is refused (422), as unknown JSON fields are.
                    "additionalProperties": False,
                },
                # The type is read from the content (app/documents/sniff.py), not from the
                # part's Content-Type: other content is refused with 415.
                "encoding": {
                    "file": {
                        "contentType": ", ".join(k.content_type for k in sniff.ALLOWED),
                        "headers": {
                            "Content-Disposition": {
                                "description": (
                                    "The file's name. An extension, if it has one, must be "
                                    "that of its content ("
                                    + ", ".join(e for k in sniff.ALLOWED for e in k.extensions)
                                    + "), or 415."
                                ),
                                "schema": {
                                    "type": "string",
                                    "example": 'form-data; name="file"; filename="ho-so"',
                                },
                            }
                        },
                    }
                },
            }
        },
    }
}


def _out(document: Document, uploader: str) -> DocumentOut:
    return DocumentOut(
        id=document.id,
        doc_type=document.doc_type,
        filename=document.filename,
        content_type=document.content_type,
        size=document.size,
        sha256=document.sha256,
        uploaded_by=uploader,
        uploaded_at=document.uploaded_at,
        superseded=document.superseded_at is not None,
        superseded_by=document.superseded_by_id,
        rejected=document.rejected_at is not None,
        rejection_reason=document.rejection_reason,
    )


@router.post("", status_code=201, openapi_extra=UPLOAD_BODY)
async def upload_document(
    case_id: uuid.UUID,
    request: Request,
    ctx: Context,
    actor: CurrentActor,
    response: Response,
    if_match: OptionalIfMatch = None,
) -> DocumentOut:
    """Upload a document of one checklist type (multipart `doc_type` and `file`); it moves the
    case to its next version (new `ETag`), and with `If-Match` only from the version read."""
    limit = ctx.settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > upload_body_limit(limit):
        raise TooLarge(f"the upload exceeds the {limit}-byte limit", {"limit": limit})
    await run_in_threadpool(_precheck, ctx, actor, case_id)
    upload = await receive_upload(
        request.headers.get("content-type", ""), request.stream(), ctx.store, limit
    )
    try:
        # A malformed form is told so before a malformed If-Match, as a JSON body would be.
        service.check_form(upload)
        expected = optional_version_from_if_match(if_match)
        stored = await run_in_threadpool(_store, request, ctx, actor, case_id, upload, expected)
    finally:
        await run_in_threadpool(ctx.store.discard, upload.staged)
    document, version = stored
    response.headers["ETag"] = etag(version)
    return document


def _precheck(ctx: AppContext, actor: Actor, case_id: uuid.UUID) -> None:
    with unit_of_work(ctx.engine, write=False) as session:
        service.check_may_upload_now(session, ctx, actor, case_id)


def _store(
    request: Request,
    ctx: AppContext,
    actor: Actor,
    case_id: uuid.UUID,
    upload: ParsedUpload,
    expected: int | None,
) -> tuple[DocumentOut, int]:
    # The request's one write transaction, opened only once the bytes are on disk, and
    # ended here, in this thread, as soon as the document is recorded.
    session = request_transaction(request.scope).session
    try:
        stored = service.store_upload(session, ctx, actor, case_id, upload, expected)
        out = _out(stored.document, actor.org_slug)
    except BaseException:
        end_here(session, ok=False)
        raise
    end_here(session, ok=True)
    return out, stored.case_version


@router.get("")
def list_documents(
    case_id: uuid.UUID, session: DbSession, ctx: Context, actor: CurrentActor
) -> DocumentList:
    """Every document of the case; superseded versions stay listed and flagged."""
    return DocumentList(
        items=[_out(d, slug) for d, slug in service.list_for_case(session, ctx, actor, case_id)]
    )


@router.get("/{doc_id}/content", response_class=FileResponse)
def download_document(
    case_id: uuid.UUID, doc_id: uuid.UUID, session: DbSession, ctx: Context, actor: CurrentActor
) -> Response:
    """Stream a document's bytes with their content type."""
    document, content = service.open_content(session, ctx, actor, case_id, doc_id)
    headers = {
        "Content-Disposition": content_disposition(document.filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    if content.path is not None:
        return FileResponse(content.path, media_type=document.content_type, headers=headers)
    # An object store's bytes are passed on as they arrive, a chunk at a time.
    headers["Content-Length"] = str(content.size)
    return StreamingResponse(content.chunks(), media_type=document.content_type, headers=headers)


@router.post("/{doc_id}/review")
@commits_in_its_thread
def review_document(
    case_id: uuid.UUID,
    doc_id: uuid.UUID,
    body: ReviewRequest,
    session: DbSession,
    ctx: Context,
    actor: CurrentActor,
    response: Response,
    if_match: IfMatch = None,
) -> DocumentOut:
    """Mark a document not acceptable, with the reason (the Council, or the Ministry in its
    states); it then counts as missing until a new one is uploaded."""
    expected = version_from_if_match(if_match)
    done = review.reject(session, ctx, actor, case_id, doc_id, expected, body.reason)
    response.headers["ETag"] = etag(done.case_version)
    return _out(done.document, done.uploaded_by)
