import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from app.consultations.schemas import ConsultedMinistry, MinistrySlug
from app.core.schemas import IsoDate, Localised, RequestModel


class UnitKind(StrEnum):
    SOFTWARE_PARK = "software_park"
    CONCENTRATED_IT_ZONE = "concentrated_it_zone"
    ICT_CENTRE = "ict_centre"
    DIGITAL_TECHNOLOGY_ZONE = "digital_technology_zone"


Text300 = Field(min_length=1, max_length=300)


def _to_cents(value: Decimal | None) -> Decimal | None:
    # As the database stores it (NUMERIC(14, 2)), so that a write's response and a later
    # read of the same version render the same: 280000 and 280000.00 are one ETag.
    return None if value is None else value.quantize(Decimal("0.01"))


Area = Annotated[
    Decimal | None,
    Field(gt=0, max_digits=14, decimal_places=2),
    AfterValidator(_to_cents),
]


PROVINCE_DESCRIPTION = (
    "The applicant organisation's province, which the dossier takes; optional. When given it"
    " must be that province (case and diacritics aside): another one is refused with 422."
)


class CaseCreate(RequestModel):
    applicant_name: str = Text300
    province: str | None = Field(
        default=None, min_length=1, max_length=100, description=PROVINCE_DESCRIPTION
    )
    unit_kind: UnitKind
    area_m2: Area = None
    address: str | None = Field(default=None, max_length=500)
    investor: str | None = Field(default=None, max_length=300)
    workflow: str | None = Field(
        default=None, description="Workflow key; the default when omitted."
    )


class CaseUpdate(RequestModel):
    applicant_name: str | None = Field(default=None, min_length=1, max_length=300)
    province: str | None = Field(
        default=None, min_length=1, max_length=100, description=PROVINCE_DESCRIPTION
    )
    unit_kind: UnitKind | None = None
    area_m2: Area = None
    address: str | None = Field(default=None, max_length=500)
    investor: str | None = Field(default=None, max_length=300)


class TransitionRequest(RequestModel):
    action: str = Field(min_length=1, max_length=50)
    comment: str | None = Field(default=None, max_length=4000)
    reason: str | None = Field(default=None, max_length=4000)
    decision_number: str | None = Field(default=None, min_length=1, max_length=100)
    decision_date: IsoDate | None = None
    ministries: list[MinistrySlug | ConsultedMinistry] | None = Field(
        default=None,
        max_length=30,
        description="`open_consultation`: the ministries to consult, each an organisation slug "
        '(due in the workflow file\'s working days) or `{"ministry", "working_days"?, '
        '"due_date"?}` with a deadline of its own.',
    )
    new_due_date: IsoDate | None = Field(
        default=None, description="`extend_deadline`: the new due date (a working day)."
    )
    supplement_documents: list[str] | None = Field(
        default=None,
        max_length=30,
        description="`request_supplement`: document types to supply again or correct.",
    )


class WorkflowRef(BaseModel):
    key: str
    version: int


class Missing(BaseModel):
    kind: Literal["document", "field", "consultation", "extension"]
    name: str
    message: str | None = None


class AllowedAction(BaseModel):
    action: str
    dest: str | None
    fields: list[str] = Field(description="Fields the transition request must carry.")
    missing: list[Missing] = Field(description="What the case still lacks for this action.")


class CaseSummary(BaseModel):
    id: uuid.UUID
    code: str | None
    state: str
    state_label: Localised
    portal_code: str | None
    version: int
    workflow: WorkflowRef
    applicant_org: str
    applicant_name: str
    province: str
    unit_kind: UnitKind
    due_at: date | None
    overdue: bool
    overdue_days: int = Field(description="Calendar days past `due_at` (0 when not overdue).")
    overdue_working_days: int = Field(
        description="Working days past `due_at`, the due date not counted (0 when not overdue)."
    )
    created_at: datetime
    updated_at: datetime


class CaseOut(CaseSummary):
    area_m2: Decimal | None
    address: str | None
    investor: str | None
    received_at: datetime | None
    state_entered_at: datetime
    clock: "ClockOut"
    allowed_actions: list[AllowedAction]


class ClockOut(BaseModel):
    """The deadline of the current state visit, beyond `due_at`."""

    paused: bool = Field(description="Stopped while a supplement is outstanding.")
    remaining_working_days: int | None = Field(
        description="While paused: working days left when it stopped (negative if late)."
    )
    original_due_at: date | None = Field(description="The due date before the extension.")
    extended_at: datetime | None = Field(description="When the visit's one extension was given.")
    calendar_warning: str | None = Field(
        description="Set when the due date lies outside the years the working-day calendar covers."
    )


CaseOut.model_rebuild()


class CasePage(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None
