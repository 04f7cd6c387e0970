"""The admin endpoint's body and answer for a migration of running cases."""

import uuid
from typing import Annotated, Any

from pydantic import BaseModel, Field

from app.admission.migration import Outcome
from app.core.schemas import RequestModel

STATE_NAME = r"^[a-z][a-z0-9_]*$"
StateName = Annotated[str, Field(pattern=STATE_NAME, max_length=50)]
NAME_SCHEMA = {"type": "string", "pattern": STATE_NAME, "maxLength": 50}


def _strict_map(schema: dict[str, Any]) -> None:
    """Keys and values both state names, as the server checks them (pydantic would describe
    the keys by `patternProperties`, which lets any other key through)."""
    schema.pop("patternProperties", None)
    schema["propertyNames"] = NAME_SCHEMA
    schema["additionalProperties"] = NAME_SCHEMA


class MigrationRequest(RequestModel):
    from_version: int = Field(ge=1)
    to_version: int = Field(ge=1)
    map: dict[StateName, StateName] = Field(
        default_factory=dict,
        max_length=100,
        json_schema_extra=_strict_map,
        description="Old state -> new state, for states the new version renamed or dropped, "
        "or to send cases elsewhere on purpose (their documents are then not checked).",
    )
    dry_run: bool = Field(default=False, description="Plan and answer; change nothing.")


class MoveOut(BaseModel):
    case_id: uuid.UUID
    code: str | None
    applicant_name: str
    from_state: str
    to_state: str
    mapped: bool
    lacking: list[str]


class ReportedOut(BaseModel):
    case_id: uuid.UUID
    code: str | None
    state: str
    reason: str


class MigrationOut(BaseModel):
    key: str
    from_version: int
    to_version: int
    dry_run: bool
    # Every running case planned to move (all of them moved unless listed in `reported`).
    planned: list[MoveOut]
    moved: int
    # Changed by someone else during the migration, planned again and retried.
    retried: list[uuid.UUID]
    reported: list[ReportedOut]
    # Closed cases stay on the version they were decided under.
    closed_cases_kept: int


def answer(outcome: Outcome) -> MigrationOut:
    plan = outcome.plan
    return MigrationOut(
        key=plan.key,
        from_version=plan.from_version,
        to_version=plan.to_version,
        dry_run=outcome.dry_run,
        planned=[
            MoveOut(
                case_id=m.case_id,
                code=m.code,
                applicant_name=m.applicant_name,
                from_state=m.from_state,
                to_state=m.to_state,
                mapped=m.mapped,
                lacking=list(m.lacking),
            )
            for m in plan.moves
        ],
        moved=len(outcome.moved),
        retried=outcome.retried,
        reported=[
            ReportedOut(case_id=r.case_id, code=r.code, state=r.state, reason=r.reason)
            for r in outcome.reported
        ],
        closed_cases_kept=plan.closed,
    )
