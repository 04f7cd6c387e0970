import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from app.core.schemas import RequestModel


class Verdict(StrEnum):
    AGREE = "agree"
    AGREE_WITH_CONDITIONS = "agree_with_conditions"
    DISAGREE = "disagree"


class AnswerRequest(RequestModel):
    verdict: Verdict
    comment: str | None = Field(default=None, max_length=4000)


class ConsultationOut(BaseModel):
    id: uuid.UUID
    round: int
    ministry: str
    opened_at: datetime
    due_at: date
    overdue: bool
    overdue_days: int = Field(description="Calendar days past `due_at` while unanswered.")
    verdict: Verdict | None
    comment: str | None
    answered_at: datetime | None
    opinion_document_id: uuid.UUID | None
    closed_at: datetime | None


class ConsultationList(BaseModel):
    items: list[ConsultationOut]
