"""The guards a workflow file may name: what a case itself must satisfy before an action.

A guard answers what is missing (empty when the action may go ahead); the answers appear in
`allowed_actions[].missing` and in a 409 `requirements_missing`.
"""

from app.admission.steps import STEPS, Check
from app.cases.schemas import Missing
from app.consultations import service as consultations
from app.history.repository import HistoryRepository


@STEPS.guard("consultations_settled")
def consultations_settled(c: Check) -> list[Missing]:
    """Every consulted ministry has answered, or its deadline has passed."""
    return [
        Missing(kind="consultation", name=slug, message="has not answered and is not yet overdue")
        for slug in consultations.unsettled(c.session, c.case.id, c.ctx.today())
    ]


@STEPS.guard("extension_available")
def extension_available(c: Check) -> list[Missing]:
    """One extension per state visit: name the one already given, if any."""
    case = c.case
    if case.extended_at is None:
        return []
    first = next(
        (
            e
            for e in reversed(HistoryRepository(c.session).for_case(case.id))
            if e.action == "extend_deadline"
        ),
        None,
    )
    if first is None:
        message = f"the deadline was already extended on {case.extended_at.isoformat()}"
    else:
        message = (
            f"the deadline was already extended once in this state: history #{first.seq}, "
            f"{first.at.isoformat()}, by {first.actor_org} ({first.actor_role}), from "
            f"{first.fields.get('original_due_at')} to {first.fields.get('new_due_date')}: "
            f"{first.reason}"
        )
    return [Missing(kind="extension", name="extend_deadline", message=message)]
