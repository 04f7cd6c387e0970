import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from app.consultations.schemas import ConsultedMinistry, MinistrySlug
from app.core.schemas import NOT_BLANK, TEXT, VOCABULARY, IsoDate, Localised, RequestModel


class UnitKind(StrEnum):
    SOFTWARE_PARK = "software_park"
    CONCENTRATED_IT_ZONE = "concentrated_it_zone"
    ICT_CENTRE = "ict_centre"
    DIGITAL_TECHNOLOGY_ZONE = "digital_technology_zone"


Text300 = Field(min_length=1, max_length=300, pattern=NOT_BLANK)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def Kept(**constraints: Any) -> Any:  # noqa: N802 - reads as a type in a model
    """An edit's field that may be left out (the value stays) but never set to null."""
    return Field(default=None, json_schema_extra=_no_default, **constraints)


def _to_cents(value: Decimal | None) -> Decimal | None:
    # As the database stores it (NUMERIC(14, 2)), so that a write's response and a later
    # read of the same version render the same: 280000 and 280000.00 are one ETag.
    return None if value is None else value.quantize(Decimal("0.01"))


# NUMERIC(14, 2): more than 0 and at most 999,999,999,999.99 m², to the hundredth. Sent as
# a JSON number, or as the decimal text a read gives back (`"1102.50"`), in no other spelling.
AREA_MAX = Decimal("999999999999.99")
AREA_STEP = Decimal("0.01")
AREA_TEXT = r"^(?:[1-9][0-9]{0,11}(?:\.[0-9]{1,2})?|0\.(?:0[1-9]|[1-9][0-9]?))$"


def _area_spelling(value: object) -> object:
    if isinstance(value, bool) or (isinstance(value, str) and not re.fullmatch(AREA_TEXT, value)):
        raise ValueError("an area is a number of m² with at most two decimals, e.g. 1102.5")
    return value


Area = Annotated[
    Annotated[Decimal, Field(gt=0, le=AREA_MAX, multiple_of=AREA_STEP)] | None,
    BeforeValidator(
        _area_spelling,
        json_schema_input_type=Annotated[
            float, Field(gt=0, le=float(AREA_MAX), multiple_of=float(AREA_STEP))
        ]
        | Annotated[str, Field(pattern=AREA_TEXT)]
        | None,
    ),
    AfterValidator(_to_cents),
]


PROVINCE_DESCRIPTION = (
    "The applicant organisation's province, which the dossier takes; optional. When given it"
    " must be that province (case and diacritics aside): another one is refused with 409"
    " `value_conflict` naming the field."
)


class CaseCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "applicant_name": "Khu CNTT tập trung tỉnh Bến Tre",
                    "unit_kind": "concentrated_it_zone",
                    "area_m2": 120000,
                }
            ]
        }
    )

    applicant_name: str = Text300
    province: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=NOT_BLANK,
        description=PROVINCE_DESCRIPTION,
    )
    unit_kind: UnitKind
    area_m2: Area = None
    address: str | None = Field(default=None, max_length=500, pattern=TEXT)
    investor: str | None = Field(default=None, max_length=300, pattern=TEXT)
    workflow: str | None = Field(
        default=None,
        description="Workflow key; the default when omitted.",
        json_schema_extra={VOCABULARY: "workflows"},
    )
    workflow_version: int | None = Field(
        default=None,
        ge=1,
        description="A loaded version of the workflow; the latest when omitted. A version "
        "that is not loaded is refused with 409 `value_conflict` naming the field.",
    )


class CaseUpdate(RequestModel):
    """At least one field; those a case must have (name, province, kind) cannot be cleared."""

    model_config = ConfigDict(
        json_schema_extra={
            "minProperties": 1,
            "examples": [{"investor": "Công ty TNHH MTV Phát triển CVPM Quang Trung"}],
        }
    )

    applicant_name: str = Kept(min_length=1, max_length=300, pattern=NOT_BLANK)
    province: str = Kept(
        min_length=1, max_length=100, pattern=NOT_BLANK, description=PROVINCE_DESCRIPTION
    )
    unit_kind: UnitKind = Kept()
    area_m2: Area = None
    address: str | None = Field(default=None, max_length=500, pattern=TEXT)
    investor: str | None = Field(default=None, max_length=300, pattern=TEXT)

    @model_validator(mode="after")
    def _names_a_field(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("an edit names at least one field")
        return self


class TransitionRequest(RequestModel):
    action: str = Field(
        min_length=1, max_length=50, description="One of the actions of the workflow files."
    )
    comment: str | None = Field(default=None, max_length=4000, pattern=TEXT)
    reason: str | None = Field(default=None, max_length=4000, pattern=TEXT)
    decision_number: str | None = Field(
        default=None, min_length=1, max_length=100, pattern=NOT_BLANK
    )
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
    supplement_documents: (
        list[Annotated[str, Field(json_schema_extra={VOCABULARY: "supplement_documents"})]] | None
    ) = Field(
        default=None,
        max_length=30,
        json_schema_extra={"uniqueItems": True},
        description="`request_supplement`: document types to supply again or correct.",
    )


class WorkflowRef(BaseModel):
    key: str
    version: int


class Missing(BaseModel):
    kind: Literal["document", "field", "consultation", "extension"]
    name: str
    message: str | None = None
    label: str | None = Field(
        default=None,
        description="The document type's label, or the field's name, in the language of "
        "`Accept-Language` (Vietnamese by default).",
    )


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


class WorkItem(BaseModel):
    """A case waiting for the caller's organisation and role, with what each of the caller's
    actions still lacks."""

    id: uuid.UUID
    code: str | None
    applicant_name: str
    province: str
    state: str
    state_label: Localised
    version: int
    workflow: WorkflowRef
    due_at: date | None
    overdue: bool
    overdue_days: int
    waiting_for: list[str] = Field(description="Roles that act next in the case's state.")
    actions: list[AllowedAction] = Field(
        description="What the caller may do now, each with what it still lacks (an answer "
        "to a consultation is `answer_consultation`)."
    )


class WorkOut(BaseModel):
    # Overdue first, then by due date, then the cases without a running clock.
    items: list[WorkItem]
    next_cursor: str | None
