from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.admission import work
from app.api.deps import Context, CurrentActor, DbSession
from app.api.errors import request_lang
from app.cases.schemas import WorkOut
from app.pipeline import service as pipeline

router = APIRouter(prefix="/api/v1/work", tags=["work"])


@router.get("", response_model=WorkOut)
def read_work(
    request: Request,
    session: DbSession,
    ctx: Context,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=pipeline.MAX_PAGE)] = pipeline.DEFAULT_PAGE,
    cursor: Annotated[
        str | None,
        Query(
            pattern=pipeline.CURSOR_PATTERN, description="The `next_cursor` of the previous page."
        ),
    ] = None,
) -> WorkOut:
    """The cases waiting for the caller's organisation and role: overdue first, then by due
    date, each with the actions the caller may take and what each still lacks."""
    return work.queue(session, ctx, actor, cursor=cursor, limit=limit, lang=request_lang(request))
