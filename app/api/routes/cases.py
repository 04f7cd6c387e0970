import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.admission import lifecycle, views
from app.api.deps import Context, CurrentActor, DbSession
from app.api.errors import request_lang
from app.api.http import IfMatch, etag, json_response, version_from_if_match
from app.api.transaction import commits_in_its_thread
from app.cases import service
from app.cases.repository import CaseFilters
from app.cases.schemas import CaseCreate, CaseOut, CasePage, CaseUpdate, TransitionRequest
from app.core.cache import BodyCache
from app.core.schemas import TEXT
from app.core.threads import for_reading

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])


@router.post("", status_code=201)
@commits_in_its_thread
def create_case(
    body: CaseCreate,
    request: Request,
    session: DbSession,
    ctx: Context,
    actor: CurrentActor,
    response: Response,
) -> CaseOut:
    """Create a dossier in `draft` for the caller's province."""
    record = service.create(session, ctx, actor, body)
    response.headers["ETag"] = etag(record.case.version)
    response.headers["Location"] = f"{router.prefix}/{record.case.id}"
    return views.detail(session, ctx, actor, record, lang=request_lang(request))


@router.get("", response_model=CasePage)
def list_cases(
    session: DbSession,
    ctx: Context,
    actor: CurrentActor,
    state: Annotated[str | None, Query(pattern=TEXT, description="Only this state.")] = None,
    province: Annotated[
        str | None,
        Query(pattern=TEXT, description="Only this province; case and diacritics ignored."),
    ] = None,
    applicant: Annotated[
        str | None, Query(pattern=TEXT, description="Applicant organisation slug.")
    ] = None,
    q: Annotated[
        str | None,
        Query(max_length=200, pattern=TEXT, description="Text search, diacritics ignored."),
    ] = None,
    overdue: bool | None = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: Annotated[
        str | None,
        Query(pattern=service.CURSOR_PATTERN, description="The `next_cursor` of the last page."),
    ] = None,
) -> Response:
    """List the cases the caller may see, newest first, a page at a time."""
    settings = ctx.settings
    size = min(limit or settings.page_size_default, settings.page_size_max)
    filters = CaseFilters(
        state=state,
        province=province,
        applicant=applicant,
        words=service.search_words(q),
        overdue=overdue,
        today=ctx.today(),
    )
    records, next_cursor = service.list_page(session, ctx, actor, filters, cursor, size)
    today = ctx.today()
    items = [views.summary(r, today, ctx.calendar) for r in records]
    return json_response(CasePage(items=items, next_cursor=next_cursor))


@router.get("/{case_id}", response_model=CaseOut)
async def read_case(
    case_id: uuid.UUID, request: Request, session: DbSession, ctx: Context, actor: CurrentActor
) -> Response:
    """Read a case, with the actions the caller may take now and what each still lacks."""
    kept: BodyCache = request.app.state.case_bodies

    def read() -> Response:
        record = service.load(session, ctx, actor, case_id)
        body = views.detail_json(session, ctx, actor, record, kept, request_lang(request))
        headers = {"ETag": etag(record.case.version)}
        return Response(body, media_type="application/json", headers=headers)

    return await for_reading(ctx.engine, read)


@router.patch("/{case_id}")
@commits_in_its_thread
def update_case(
    case_id: uuid.UUID,
    body: CaseUpdate,
    request: Request,
    session: DbSession,
    ctx: Context,
    actor: CurrentActor,
    response: Response,
    if_match: IfMatch = None,
) -> CaseOut:
    """Edit a dossier's descriptive fields while the applicant holds it (draft or supplement)."""
    expected = version_from_if_match(if_match)
    record = service.update(session, ctx, actor, case_id, expected, body)
    response.headers["ETag"] = etag(record.case.version)
    return views.detail(session, ctx, actor, record, lang=request_lang(request))


@router.post("/{case_id}/transitions")
@commits_in_its_thread
def fire_transition(
    case_id: uuid.UUID,
    body: TransitionRequest,
    request: Request,
    session: DbSession,
    ctx: Context,
    actor: CurrentActor,
    response: Response,
    if_match: IfMatch = None,
) -> CaseOut:
    """Move a case along its workflow; all-or-nothing, guarded by `If-Match`."""
    expected = version_from_if_match(if_match)
    fired = lifecycle.fire(session, ctx, actor, case_id, expected, body)
    response.headers["ETag"] = etag(fired.record.case.version)
    return views.detail(
        session, ctx, actor, fired.record, present=fired.present, lang=request_lang(request)
    )
