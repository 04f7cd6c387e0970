import uuid
from datetime import datetime

from pydantic import BaseModel


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
