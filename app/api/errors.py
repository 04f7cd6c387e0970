"""One way to answer an error: `render_error`, used by every handler and ASGI layer.

Every error body is `{"error": {"code", "message", "details"}}` (DESIGN §4).
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm.exc import StaleDataError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection

from app.admission import labels
from app.api import messages
from app.api.openapi import allowed_methods
from app.api.security import log_refusal
from app.core.errors import AdmissionError, IdempotencyKeyInUse, TooManyRequests, VersionMismatch
from app.core.i18n import DEFAULT as DEFAULT_LANG
from app.core.i18n import Lang, negotiate
from app.core.schemas import ErrorBody
from app.engine.loader import WorkflowRegistry

HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_type",
}

# Documented on every operation, so that clients (and the fuzzer) know the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "Malformed request",
        401: "No or bad token",
        403: "The caller's role may not do this",
        404: "Unknown, or not visible to the caller",
        405: "Method not allowed",
        409: "Not allowed in the current state, or requirements missing",
        412: "Stale If-Match",
        413: "Body too large",
        415: "Type not allowed",
        422: "Invalid input (names the fields)",
        428: "If-Match required",
        429: "Too many failed authentications (see Retry-After)",
        500: "Internal error (with a request id, never a stack trace)",
        503: "The case's workflow version is not loaded here, or the document store is down",
    }.items()
}


def render_error(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
    lang: Lang = DEFAULT_LANG,
) -> JSONResponse:
    """The error body; `message` (the service's English) is said in `lang`."""
    text = messages.message(code, message, details, lang)
    body = {"error": {"code": code, "message": text, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)


def request_lang(request: HTTPConnection | Headers) -> Lang:
    headers = request if isinstance(request, Headers) else request.headers
    return negotiate(headers.get("accept-language"))


def render_admission_error(
    exc: AdmissionError, lang: Lang = DEFAULT_LANG, registry: WorkflowRegistry | None = None
) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    if isinstance(exc, TooManyRequests | IdempotencyKeyInUse):
        headers["Retry-After"] = str(exc.retry_after)
    details = exc.details
    if (
        registry is not None
        and isinstance(details, dict)
        and isinstance(details.get("missing"), list)
    ):
        details = {**details, "missing": [dict(m) for m in details["missing"]]}
        labels.label_dicts(details["missing"], lang, registry)
    return render_error(exc.status, exc.code, exc.message, details, headers or None, lang)


def render_stale(lang: Lang = DEFAULT_LANG) -> JSONResponse:
    """A flush found the case's row changed under it: the same answer as a stale If-Match."""
    return render_admission_error(
        VersionMismatch("the case was changed by someone else; read it again"), lang
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AdmissionError)
    async def _admission_error(request: Request, exc: AdmissionError) -> JSONResponse:
        if exc.status in (401, 403, 429):
            log_refusal(request, exc.status, exc.code, exc.message)
        registry = request.app.state.context.workflows
        return render_admission_error(exc, request_lang(request), registry)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, __: StaleDataError) -> JSONResponse:
        return render_stale(request_lang(request))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]), "problem": err["msg"]}
            for err in exc.errors()
        ]
        fields = ", ".join(e["field"] for e in errors)
        return render_error(
            422, "invalid", f"invalid input: {fields}", errors, lang=request_lang(request)
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "error")
        # Keep what Starlette says about the refusal, e.g. `Allow` on a 405.
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            documented = allowed_methods(request.app, request.url.path)
            if documented:
                headers["Allow"] = ", ".join(documented)
        return render_error(
            exc.status_code, code, str(exc.detail), headers=headers, lang=request_lang(request)
        )
