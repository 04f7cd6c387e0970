from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from app.admission import migration
from app.admission.migration_schemas import MigrationOut, MigrationRequest, answer
from app.api.deps import Context, CurrentActor, DbSession
from app.cases import workflow_views
from app.cases.workflow_views import WorkflowList, WorkflowVersionOut
from app.core.errors import Forbidden, InvalidInput, ValueConflict
from app.core.schemas import VOCABULARY
from app.engine import vocabulary
from app.engine.diagram import render_mermaid, render_svg
from app.engine.roles import Role

router = APIRouter(prefix="/api/v1/workflows", tags=["workflows"])

MERMAID = "text/vnd.mermaid"


@router.get("")
def list_workflows(session: DbSession, ctx: Context, actor: CurrentActor) -> WorkflowList:
    """Every loaded workflow with its versions, the latest marked, and how many of the cases
    the caller may see each version holds."""
    return workflow_views.overview(session, ctx, actor)


@router.get("/{key}/versions/{version}")
def read_workflow_version(
    key: str, version: int, ctx: Context, _actor: CurrentActor
) -> WorkflowVersionOut:
    """One workflow version as its file defines it: states, transitions with who fires each
    and what each needs, the document checklist, deadlines, labels in Vietnamese and English."""
    return workflow_views.detail(ctx, key, version)


@router.get(
    "/{key}/versions/{version}/diagram",
    response_class=Response,
    responses={
        200: {
            "content": {"image/svg+xml": {}, MERMAID: {}},
            "description": "The diagram as SVG, or as Mermaid text with `format=mermaid`",
        }
    },
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
    format: Annotated[  # noqa: A002 - the query parameter's name
        Literal["svg", "mermaid"], Query(description="SVG, or Mermaid `stateDiagram-v2` text.")
    ] = "svg",
) -> Response:
    """The workflow version's state diagram, generated from its file."""
    workflow = workflow_views.loaded(ctx, key, version)
    if current is not None and current not in workflow.definition.states:
        # A state of another workflow file is one the OpenAPI document names: not malformed.
        known = current in vocabulary.of(ctx.workflows).states
        error = ValueConflict if known else InvalidInput
        raise error(f"unknown state {current!r}", {"current": "unknown state"})
    headers = {"Cache-Control": "max-age=300"}
    if format == "mermaid":
        text = render_mermaid(workflow.definition, lang, current)
        return Response(text, media_type=f"{MERMAID}; charset=utf-8", headers=headers)
    svg = render_svg(workflow.definition, lang, current)
    return Response(svg, media_type="image/svg+xml", headers=headers)


@router.post("/{key}/migrations")
def migrate_cases(
    key: str, body: MigrationRequest, ctx: Context, actor: CurrentActor
) -> MigrationOut:
    """Move the running cases of one version of the workflow to another (operators only).

    Refused with 409 `migration_refused`, listing every case and reason and changing nothing,
    when a state has no counterpart and no mapping or a case would land in a state whose
    documents it does not hold. Otherwise each case moves in its own transaction, with a
    `workflow_migrated` history entry and a `case.workflow_migrated` event; with `dry_run`,
    the plan only. Running a finished migration again moves nothing."""
    if actor.role is not Role.ADMIN:
        raise Forbidden("only an operator migrates cases to another workflow version")
    outcome = migration.run(
        ctx, actor, key, body.from_version, body.to_version, body.map, dry_run=body.dry_run
    )
    return answer(outcome)
