"""The one error hierarchy of the service; each answered class carries its HTTP status.

AdmissionError (500 internal)                   answered to the client by render_error
 ├── InvalidInput (422 invalid)
 ├── IdempotencyKeyReused (422 idempotency_key_reused)
 ├── Unauthenticated (401 unauthenticated)
 ├── Forbidden (403 forbidden)
 │    ├── PasswordChangeRequired (403 password_change_required: a one-time password)
 │    └── CsrfRefused (403 csrf_refused: a cookie-made change without the page's token)
 ├── NotFound (404 not_found)
 ├── Conflict (409)
 │    ├── TransitionNotAllowed (409 transition_not_allowed)
 │    ├── RequirementsMissing (409 requirements_missing)
 │    ├── ActionNotAllowedNow (409 not_allowed_in_state)
 │    ├── ValueConflict (409 value_conflict)
 │    ├── MigrationRefused (409 migration_refused: running cases that cannot move, listed)
 │    └── IdempotencyKeyInUse (409 idempotency_key_in_use, with Retry-After)
 ├── VersionMismatch (412 version_mismatch)
 ├── TooLarge (413 too_large)
 ├── UnsupportedType (415 unsupported_type)
 ├── PreconditionRequired (428 precondition_required)
 ├── TooManyRequests (429 too_many_requests, with Retry-After)
 ├── WorkflowUnavailable (503 workflow_unavailable: the case's workflow version is not loaded)
 └── StorageUnavailable (503 storage_unavailable: the document store did not answer)

ServiceFault                                    never shown to a client as such
 ├── WorkflowDefinitionError                    a broken file in workflows/ (start-up)
 ├── UnloadedWorkflows (app.engine.pinned)      cases use versions not loaded (start-up)
 ├── EditedWorkflows (app.engine.pinned)        a version cases use was edited in place
 ├── CalendarError                              a broken working-day calendar file (start-up)
 ├── LetterFontMissing                          letters cannot be rendered (a 500 if met)
 ├── ForbiddenDestination                       a webhook URL that points inside the network
 ├── InvalidSignature                           a webhook delivery that does not verify
 ├── BadExport                                  a chain-head export that is not ours
 └── StorageIntegrityError                      stored bytes that do not hash to their name
"""

from typing import Any


class AdmissionError(Exception):
    """An error answered to the client with its status, code, message and details."""

    status: int = 500
    code: str = "internal"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(AdmissionError):
    """The request is malformed or names something that does not exist."""

    status = 422
    code = "invalid"


class Unauthenticated(AdmissionError):
    """No token, or one that is unknown, revoked or expired."""

    status = 401
    code = "unauthenticated"


class Forbidden(AdmissionError):
    """The caller's role may not do this."""

    status = 403
    code = "forbidden"


class PasswordChangeRequired(Forbidden):
    """A person signed in with a one-time password must choose their own first."""

    code = "password_change_required"


class CsrfRefused(Forbidden):
    """A state-changing request made with the session cookie lacks the page's CSRF token."""

    code = "csrf_refused"


class NotFound(AdmissionError):
    """Unknown, or not visible to the caller (never 403, so ids cannot be probed)."""

    status = 404
    code = "not_found"


class Conflict(AdmissionError):
    """The case's state does not allow this now."""

    status = 409
    code = "conflict"


class TransitionNotAllowed(Conflict):
    """The action does not leave the case's current state."""

    code = "transition_not_allowed"


class RequirementsMissing(Conflict):
    """Documents, fields or conditions the action needs are missing."""

    code = "requirements_missing"


class ActionNotAllowedNow(Conflict):
    """An upload, edit or answer that the case's current state does not allow."""

    code = "not_allowed_in_state"


class ValueConflict(Conflict):
    """A well-formed value (as the OpenAPI document describes it) that the case's current
    state or the service's records rule out: a date not after the current due date or not
    a working day, a slug that is not a ministry, another province's name. The details name
    the field. A 422 is kept for what the document itself rules out."""

    code = "value_conflict"


class MigrationRefused(Conflict):
    """Running cases of a workflow version cannot move to another one as asked (the details
    list each case and why); nothing was changed."""

    code = "migration_refused"


class VersionMismatch(AdmissionError):
    """The client's If-Match is not the case's current version."""

    status = 412
    code = "version_mismatch"


class TooLarge(AdmissionError):
    """The body or upload exceeds its limit."""

    status = 413
    code = "too_large"


class UnsupportedType(AdmissionError):
    """The upload's content is not of an allowed type."""

    status = 415
    code = "unsupported_type"


class PreconditionRequired(AdmissionError):
    """A change of a case was sent without If-Match."""

    status = 428
    code = "precondition_required"


class TooManyRequests(AdmissionError):
    """Too many failed authentications from the client's address."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, {"retry_after": retry_after})
        self.retry_after = retry_after


class IdempotencyKeyReused(AdmissionError):
    """The Idempotency-Key was used before with a different request."""

    status = 422
    code = "idempotency_key_reused"


class IdempotencyKeyInUse(Conflict):
    """The first request with this Idempotency-Key is still running."""

    code = "idempotency_key_in_use"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, {"retry_after": retry_after})
        self.retry_after = retry_after


class WorkflowUnavailable(AdmissionError):
    """The case is pinned to a workflow version this process has not loaded (its file is
    missing here): nothing about the case can be worked out until the file is deployed."""

    status = 503
    code = "workflow_unavailable"

    def __init__(self, key: str, version: int) -> None:
        super().__init__(
            f"workflow {key!r} version {version} is not loaded on this server",
            {"workflow": {"key": key, "version": version}},
        )


class StorageUnavailable(AdmissionError):
    """The document store (an object store over the network) failed or did not answer; the
    request changed nothing and may be retried."""

    status = 503
    code = "storage_unavailable"


class ServiceFault(Exception):
    """A fault inside the service or its set-up, never answered to a client as such."""


class WorkflowDefinitionError(ServiceFault):
    """A file in `workflows/` is malformed; the message names the file and the key."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        super().__init__(f"{source}: {key}: {problem}")
        self.source = source
        self.key = key
        self.problem = problem


class CalendarError(ServiceFault):
    """The calendar file is malformed; the message names the file and the problem."""


class LetterFontMissing(ServiceFault):
    """The Unicode font is not installed; a letter without it would lose its diacritics."""


class ForbiddenDestination(ServiceFault):
    """The URL's host is, or resolves to, an address webhooks may not be sent to."""


class InvalidSignature(ServiceFault):
    """A delivery whose headers do not prove it came from us, unaltered and recently."""


class BadExport(ServiceFault):
    """The export file is not one of ours, or its signature does not match the key."""


class StorageIntegrityError(ServiceFault):
    """An object in the document store does not hold the bytes its SHA-256 name promises."""
