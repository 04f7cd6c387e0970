from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from app.api.deps import Context, CurrentActor, DbSession
from app.core.cache import BodyCache
from app.core.schemas import TEXT
from app.core.threads import for_reading, in_worker_thread
from app.pipeline import service
from app.pipeline.schemas import PipelineOut

router = APIRouter(prefix="/api/v1/pipeline", tags=["pipeline"])


@router.get("", response_model=PipelineOut, responses={304: {"description": "Unchanged"}})
async def read_pipeline(
    request: Request,
    session: DbSession,
    ctx: Context,
    actor: CurrentActor,
    workflow: Annotated[
        str | None, Query(pattern=TEXT, description="Only this workflow key.")
    ] = None,
    province: Annotated[
        str | None,
        Query(pattern=TEXT, description="Only this province; case and diacritics ignored."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = service.DEFAULT_PAGE,
    cursor: Annotated[
        str | None,
        Query(
            pattern=service.CURSOR_PATTERN, description="The `next_cursor` of the previous page."
        ),
    ] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Counts, overdue counts and median days per state, and one page of cases (overdue
    first, then by due date), with an ETag per page for polling."""
    page_name = service.page_name(limit, cursor)
    # The tag (two index look-ups) is read where reads run; a body to build, which grows with
    # the cases in scope, is built in a worker thread.
    tag = await for_reading(
        ctx.engine, service.tag, session, ctx, actor, workflow, province, page_name
    )
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    if service.matches(if_none_match, tag):
        return Response(status_code=304, headers=headers)
    bodies: BodyCache = request.app.state.pipeline_bodies
    body = bodies.get(tag)
    if body is None:
        page = await in_worker_thread(
            service.build, session, ctx, actor, workflow, province, cursor=cursor, limit=limit
        )
        body = page.model_dump_json().encode()
        bodies.put(tag, body)
    return Response(body, media_type="application/json", headers=headers)
