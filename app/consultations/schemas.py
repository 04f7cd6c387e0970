import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.schemas import NOT_BLANK, TEXT, IsoDate, RequestModel

MinistrySlug = Annotated[str, Field(min_length=1, max_length=64, pattern=NOT_BLANK)]
# What became of each consultation of a round when it was closed.
Outcome = Literal["answered", "overdue_unanswered", "closed_before_due"]
# The most working days a ministry may be given to answer (a quarter of a year).
MAX_WORKING_DAYS = 60


class Verdict(StrEnum):
    AGREE = "agree"
    AGREE_WITH_CONDITIONS = "agree_with_conditions"
    DISAGREE = "disagree"


class ConsultedMinistry(RequestModel):
    """One ministry to consult with a deadline of its own; without one, the workflow file's."""

    # `working_days` or `due_date`, not both.
    model_config = ConfigDict(
        json_schema_extra={
            "not": {
                "required": ["working_days", "due_date"],
                "properties": {"working_days": {"type": "integer"}, "due_date": {"type": "string"}},
            }
        }
    )

    ministry: MinistrySlug = Field(description="The ministry's organisation slug.")
    working_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_WORKING_DAYS,
        description="Working days it has to answer, counted from the opening.",
    )
    due_date: IsoDate | None = Field(
        default=None, description="Its due date instead: a working day after today."
    )

    @model_validator(mode="after")
    def _one_deadline(self) -> Self:
        if self.working_days is not None and self.due_date is not None:
            raise ValueError("give working_days or due_date, not both")
        return self


class ExtendRequest(RequestModel):
    new_due_date: IsoDate = Field(
        description="The new due date: a working day after the current one."
    )
    reason: str = Field(
        min_length=1, max_length=4000, pattern=NOT_BLANK, description="Why more time is given."
    )


class AnswerRequest(RequestModel):
    verdict: Verdict
    comment: str | None = Field(default=None, max_length=4000, pattern=TEXT)


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
    original_due_at: date | None = Field(description="The due date before its one extension.")
    extended_at: datetime | None = Field(description="When its one extension was given.")
    extension_reason: str | None = Field(description="Why it was extended.")
    outcome: Outcome | None = Field(
        description="Once closed: answered, overdue without an answer, or closed before its "
        "due date without one."
    )


class ConsultationList(BaseModel):
    items: list[ConsultationOut]
