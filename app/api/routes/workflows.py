from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from app.api.deps import Context, CurrentActor
from app.core.errors import InvalidInput, NotFound, ValueConflict
from app.core.schemas import VOCABULARY
from app.engine import vocabulary
from app.engine.diagram import render_svg

router = APIRouter(prefix="/api/v1/workflows", tags=["workflows"])


@router.get(
    "/{key}/versions/{version}/diagram",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "The diagram as SVG"}},
)
def read_diagram(
    key: str,
    version: int,
    ctx: Context,
    _actor: CurrentActor,
    lang: Annotated[Literal["vi", "en"], Query(description="Label language.")] = "vi",
    current: Annotated[
        str | None,
        Query(
            description="A state of the workflow to mark as current.",
            json_schema_extra={VOCABULARY: "states"},
        ),
    ] = None,
) -> Response:
    """The workflow version's state diagram as SVG, generated from its file."""
    workflow = ctx.workflows.find(key, version)
    if workflow is None:
        raise NotFound(f"no workflow {key!r} version {version}")
    if current is not None and current not in workflow.definition.states:
        # A state of another workflow file is one the OpenAPI document names: not malformed.
        known = current in vocabulary.of(ctx.workflows).states
        error = ValueConflict if known else InvalidInput
        raise error(f"unknown state {current!r}", {"current": "unknown state"})
    svg = render_svg(workflow.definition, lang, current)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=300"})
