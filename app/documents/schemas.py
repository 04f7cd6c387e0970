import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.core.schemas import NOT_BLANK, RequestModel


class DocumentOut(BaseModel):
    id: uuid.UUID
    doc_type: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    superseded: bool
    superseded_by: uuid.UUID | None
    rejected: bool
    rejection_reason: str | None


class DocumentList(BaseModel):
    items: list[DocumentOut]


class ReviewRequest(RequestModel):
    reason: str = Field(
        min_length=1,
        max_length=4000,
        pattern=NOT_BLANK,
        description="Why the document is not acceptable (the applicant reads it on its checklist).",
    )
