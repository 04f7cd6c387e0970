"""Which cases an actor may see. Everything else answers 404, as if it did not exist."""

from sqlalchemy import ColumnElement, exists, select, true

from app.auth.actor import Actor
from app.cases.models import Case
from app.consultations.models import Consultation
from app.engine.roles import Role


def visible_cases(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on `Case` restricting rows to those the actor may see."""
    if actor.role is Role.APPLICANT:
        return Case.applicant_org_id == actor.org_id
    if actor.role is Role.CONSULTED:
        return exists(
            select(Consultation.id).where(
                Consultation.case_id == Case.id, Consultation.ministry_org_id == actor.org_id
            )
        )
    return true()
