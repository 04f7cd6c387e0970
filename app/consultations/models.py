import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import Organisation
from app.core.models import Base, UTCDateTime, utcnow


class Consultation(Base):
    """The Ministry's request for one other ministry's opinion on a case."""

    __tablename__ = "consultations"
    __table_args__ = (UniqueConstraint("case_id", "round", "ministry_org_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    # A case may be sent out for opinions more than once; each opening is a round.
    round: Mapped[int]
    ministry_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[date] = mapped_column(Date)
    verdict: Mapped[str | None] = mapped_column(String(30))
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opinion_document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by the overdue sweep when it announced that this consultation's deadline passed.
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Its one extension: the due date before it, when and why it was given.
    original_due_at: Mapped[date | None] = mapped_column(Date)
    extended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extension_reason: Mapped[str | None] = mapped_column(Text)

    ministry: Mapped[Organisation] = relationship(lazy="raise")
