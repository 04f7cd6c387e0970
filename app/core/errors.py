"""The one error hierarchy of the service; each class carries its HTTP status.

AdmissionError (500 internal)
 ├── InvalidInput (422 invalid)
 ├── Unauthenticated (401 unauthenticated)
 ├── Forbidden (403 forbidden)
 ├── NotFound (404 not_found)
 ├── Conflict (409)
 │    ├── TransitionNotAllowed (409 transition_not_allowed)
 │    ├── RequirementsMissing (409 requirements_missing)
 │    └── ActionNotAllowedNow (409 not_allowed_in_state)
 ├── VersionMismatch (412 version_mismatch)
 ├── TooLarge (413 too_large)
 ├── UnsupportedType (415 unsupported_type)
 ├── PreconditionRequired (428 precondition_required)
 └── TooManyRequests (429 too_many_requests, with Retry-After)

WorkflowDefinitionError is raised at start-up for a broken file in `workflows/`; it
never reaches a client.
"""

from typing import Any


class AdmissionError(Exception):
    status: int = 500
    code: str = "internal"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(AdmissionError):
    status = 422
    code = "invalid"


class Unauthenticated(AdmissionError):
    status = 401
    code = "unauthenticated"


class Forbidden(AdmissionError):
    status = 403
    code = "forbidden"


class NotFound(AdmissionError):
    status = 404
    code = "not_found"


class Conflict(AdmissionError):
    status = 409
    code = "conflict"


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"


class RequirementsMissing(Conflict):
    code = "requirements_missing"


class ActionNotAllowedNow(Conflict):
    """An upload, edit or answer that the case's current state does not allow."""

    code = "not_allowed_in_state"


class VersionMismatch(AdmissionError):
    status = 412
    code = "version_mismatch"


class TooLarge(AdmissionError):
    status = 413
    code = "too_large"


class UnsupportedType(AdmissionError):
    status = 415
    code = "unsupported_type"


class PreconditionRequired(AdmissionError):
    status = 428
    code = "precondition_required"


class TooManyRequests(AdmissionError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, {"retry_after": retry_after})
        self.retry_after = retry_after


class WorkflowDefinitionError(Exception):
    """A file in `workflows/` is malformed; the message names the file and the key."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        super().__init__(f"{source}: {key}: {problem}")
        self.source = source
        self.key = key
        self.problem = problem
