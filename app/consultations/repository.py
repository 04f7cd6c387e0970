import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import Organisation
from app.consultations.models import Consultation


class ConsultationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def latest_round(self, case_id: uuid.UUID) -> int:
        value = self.session.scalar(
            select(func.max(Consultation.round)).where(Consultation.case_id == case_id)
        )
        return int(value or 0)

    def for_case(
        self, case_id: uuid.UUID, ministry_org_id: int | None = None
    ) -> list[tuple[Consultation, str]]:
        query = (
            select(Consultation, Organisation.slug)
            .join(Organisation, Consultation.ministry_org_id == Organisation.id)
            .where(Consultation.case_id == case_id)
            .order_by(Consultation.round, Organisation.slug)
        )
        if ministry_org_id is not None:
            query = query.where(Consultation.ministry_org_id == ministry_org_id)
        return [(c, slug) for c, slug in self.session.execute(query)]

    def open_for(self, case_id: uuid.UUID, ministry_org_id: int) -> Consultation | None:
        """The ministry's consultation of the case that is still open (at most one)."""
        return self.session.scalar(
            select(Consultation).where(
                Consultation.case_id == case_id,
                Consultation.ministry_org_id == ministry_org_id,
                Consultation.closed_at.is_(None),
            )
        )

    def get(self, case_id: uuid.UUID, consultation_id: uuid.UUID) -> Consultation | None:
        return self.session.scalar(
            select(Consultation).where(
                Consultation.case_id == case_id, Consultation.id == consultation_id
            )
        )

    def open_ones(self, case_id: uuid.UUID) -> list[tuple[Consultation, str]]:
        return [(c, slug) for c, slug in self.for_case(case_id) if c.closed_at is None]

    def add_all(self, consultations: list[Consultation]) -> None:
        self.session.add_all(consultations)
        self.session.flush()
