import uuid

from fastapi import APIRouter

from app.api.deps import Context, CurrentActor, DbSession
from app.portal import service
from app.portal.schemas import PortalStatus

router = APIRouter(prefix="/api/v1/cases/{case_id}/portal-status", tags=["portal"])


@router.get("", response_model=PortalStatus, response_model_by_alias=True)
def read_portal_status(
    case_id: uuid.UUID, session: DbSession, ctx: Context, actor: CurrentActor
) -> PortalStatus:
    """The case as provincial one-stop systems exchange it with the national portal."""
    return service.build(session, ctx, actor, case_id)
