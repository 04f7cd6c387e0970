import uuid

from fastapi import APIRouter
from pydantic import BaseModel

from app.api.deps import Context, CurrentActor, DbSession
from app.letters import service

router = APIRouter(prefix="/api/v1/cases/{case_id}/letters", tags=["documents"])


class ReproductionOut(BaseModel):
    document_id: uuid.UUID
    doc_type: str
    history_seq: int
    stored_sha256: str
    regenerated_sha256: str
    identical: bool


@router.get("/{document_id}/verify")
def verify_letter(
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    session: DbSession,
    ctx: Context,
    actor: CurrentActor,
) -> ReproductionOut:
    """Render a receipt or supplement notice again from its history entry and compare SHA-256."""
    found, _ = service.render_again(session, ctx, actor, case_id, document_id)
    return ReproductionOut(
        document_id=found.document_id,
        doc_type=found.doc_type,
        history_seq=found.history_seq,
        stored_sha256=found.stored_sha256,
        regenerated_sha256=found.regenerated_sha256,
        identical=found.identical,
    )
