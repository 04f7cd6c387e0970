from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from app.core.deps import Context, CurrentActor, DbSession
from app.pipeline import service
from app.pipeline.schemas import PipelineOut

router = APIRouter(prefix="/api/v1/pipeline", tags=["pipeline"])


@router.get("", response_model=PipelineOut, responses={304: {"description": "Unchanged"}})
def read_pipeline(
    session: DbSession,
    ctx: Context,
    actor: CurrentActor,
    workflow: Annotated[str | None, Query(description="Only this workflow key.")] = None,
    province: Annotated[
        str | None, Query(description="Only this province; case and diacritics ignored.")
    ] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Counts per state and every visible case with its due date, with an ETag for polling."""
    tag = service.tag(session, ctx, actor, workflow, province)
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    if service.matches(if_none_match, tag):
        return Response(status_code=304, headers=headers)
    body = service.build(session, ctx, actor, workflow, province).model_dump_json()
    return Response(body, media_type="application/json", headers=headers)
