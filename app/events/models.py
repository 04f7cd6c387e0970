import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, UTCDateTime, utcnow
from app.history.models import JSONType


class Event(Base):
    """The change feed and outbox: one row per thing that happened, written in its transaction."""

    __tablename__ = "events"

    # SQLite only auto-numbers an INTEGER primary key.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    type: Mapped[str] = mapped_column(String(50))
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
