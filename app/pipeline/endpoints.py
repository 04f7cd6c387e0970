import hashlib
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
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Counts per state and every visible case with its due date, with an ETag for polling."""
    body = service.build(session, ctx, actor, workflow).model_dump_json()
    tag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
    if if_none_match == tag:
        return Response(status_code=304, headers={"ETag": tag})
    return Response(body, media_type="application/json", headers={"ETag": tag})
