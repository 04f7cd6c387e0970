"""A case as its reader sees it: its fields and the actions the reader may take now."""

from sqlalchemy.orm import Session

from app.access import CaseRecord
from app.admission import lifecycle
from app.auth.actor import Actor
from app.cases.schemas import CaseOut
from app.cases.views import clock_of, summary
from app.context import AppContext


def detail(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    record: CaseRecord,
    present: set[str] | None = None,
) -> CaseOut:
    """The case read; `present` saves reading the documents on file when the caller has them."""
    case = record.case
    return CaseOut(
        **summary(record, ctx.today(), ctx.calendar).model_dump(),
        area_m2=case.area_m2,
        address=case.address,
        investor=case.investor,
        received_at=case.received_at,
        state_entered_at=case.state_entered_at,
        clock=clock_of(record, ctx.calendar),
        allowed_actions=lifecycle.allowed_actions(session, ctx, actor, record, present),
    )
