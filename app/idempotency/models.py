import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, UTCDateTime
from app.history.models import JSONType


class IdempotencyKey(Base):
    """A client's `Idempotency-Key` and, once the first attempt finished, its response.

    Keys belong to the calling token's organisation. While an attempt runs, `attempt`
    names it and `locked_until` bounds how long it may hold the key; the response is
    written in the same transaction as the request's own changes, so a key is complete
    exactly when those changes are committed.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("organisation_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the method, the path and the body: what "the same request" means.
    fingerprint: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    attempt: Mapped[uuid.UUID] = mapped_column(Uuid)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None]
    response_headers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
