"""Imports every table so that `Base.metadata` is complete (for Alembic and tests)."""

from app.auth.models import ApiToken, Organisation, RecoveryCode, User, UserSession
from app.cases.models import Case, DossierCodeSequence, PublishedWorkflow
from app.consultations.models import Consultation
from app.core.models import Base
from app.documents.models import Document
from app.events.models import Event
from app.history.models import AuditEntry
from app.idempotency.models import IdempotencyKey
from app.webhooks.models import OutboxCursor, WebhookDelivery, WebhookSubscription

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "Case",
    "Consultation",
    "Document",
    "DossierCodeSequence",
    "Event",
    "IdempotencyKey",
    "Organisation",
    "RecoveryCode",
    "User",
    "UserSession",
    "OutboxCursor",
    "PublishedWorkflow",
    "WebhookDelivery",
    "WebhookSubscription",
]
