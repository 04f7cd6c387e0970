import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import Organisation
from app.core.models import Base, UTCDateTime, utcnow
from app.core.text import fold
from app.history.chain import GENESIS

# Fields that `q` searches, folded into `search_text`.
SEARCHABLE = ("code", "applicant_name", "province", "address", "investor")


class Case(Base):
    """One dossier: an applicant's request to join the Chain, and where it stands."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_state_created_at_id", "state", "created_at", "id"),
        Index("ix_cases_created_at_id", "created_at", "id"),
        # The pipeline's page: overdue first, then by due date (see app/pipeline).
        Index("ix_cases_due_at_created_at_id", "due_at", "created_at", "id"),
        # The pipeline's median time in each state.
        Index("ix_cases_state_state_entered_at", "state", "state_entered_at"),
        # The workflow versions in use, for the start-up and readiness check.
        Index("ix_cases_workflow_key_version", "workflow_key", "workflow_version"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    workflow_key: Mapped[str] = mapped_column(String(100))
    workflow_version: Mapped[int]
    state: Mapped[str] = mapped_column(String(50))
    version: Mapped[int] = mapped_column(default=1)
    # The state that asked for a supplement, to which `resubmit` returns.
    return_state: Mapped[str | None] = mapped_column(String(50))

    applicant_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    applicant_name: Mapped[str] = mapped_column(String(300))
    province: Mapped[str] = mapped_column(String(100))
    # `province` lower-case and without diacritics, for the `province` filter.
    province_key: Mapped[str] = mapped_column(
        String(100), index=True, default="", server_default=""
    )
    unit_kind: Mapped[str] = mapped_column(String(40))
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    address: Mapped[str | None] = mapped_column(String(500))
    investor: Mapped[str | None] = mapped_column(String(300))
    # The head of the case's history chain: the newest entry's seq and hash, moved in the
    # transaction that appends each entry, so that verify also notices the newest entries
    # gone (a chain cut short still links up by itself).
    head_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    head_hash: Mapped[str] = mapped_column(String(64), default=GENESIS, server_default=GENESIS)
    # Lower-case, diacritics-free copy of the searchable fields (for `q`).
    search_text: Mapped[str] = mapped_column(Text, default="")

    # The clock of the current state visit (see app/deadlines/clock.py).
    due_at: Mapped[date | None] = mapped_column(Date, index=True)
    # The due date before the visit's one extension, and when it was granted.
    original_due_at: Mapped[date | None] = mapped_column(Date)
    extended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # While a supplement is outstanding the clock stops: working days left then (negative when
    # already late), for the due date and for the original due date of an extended clock.
    clock_remaining_days: Mapped[int | None]
    clock_original_remaining_days: Mapped[int | None]
    # Set by the overdue sweep when it announced that this clock ran out (once per clock).
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state_entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    applicant_org: Mapped[Organisation] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    def refresh_search_text(self) -> None:
        """Recompute the folded copies of the case's text: `search_text` (for `q`) and
        `province_key` (for the `province` filter)."""
        self.search_text = fold(" ".join(str(getattr(self, f) or "") for f in SEARCHABLE))
        self.province_key = fold(self.province or "")


class PublishedWorkflow(Base):
    """A workflow version as it was first loaded: its file and the hash of its content.

    A published version is immutable while cases use it: the service refuses to start when
    the file it loads for a version cases use no longer hashes to what was recorded here
    (see app/engine/pinned.py)."""

    __tablename__ = "published_workflows"

    workflow_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    workflow_version: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(300))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DossierCodeSequence(Base):
    """Last dossier number issued per agency and day; codes are never reused."""

    __tablename__ = "dossier_code_sequences"

    agency: Mapped[str] = mapped_column(String(10), primary_key=True)
    day: Mapped[str] = mapped_column(String(6), primary_key=True)
    last: Mapped[int]
