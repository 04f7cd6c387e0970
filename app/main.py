"""The FastAPI application: routers, error rendering, health."""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.idempotency import Idempotency, document_header
from app.api.limits import BodySizeLimit
from app.api.observability import RequestContext, database_ready, render_metrics
from app.api.routes.cases import router as cases_router
from app.api.routes.consultations import router as consultations_router
from app.api.routes.documents import router as documents_router
from app.api.routes.events import router as events_router
from app.api.routes.history import router as history_router
from app.api.routes.letters import router as letters_router
from app.api.routes.pipeline import router as pipeline_router
from app.api.routes.portal import router as portal_router
from app.api.routes.webhooks import router as webhooks_router
from app.api.routes.workflows import router as workflows_router
from app.api.security import FailureLimiter, log_refusal, request_id
from app.context import AppContext
from app.core.config import Settings, get_settings
from app.core.errors import AdmissionError, TooManyRequests
from app.core.schemas import ErrorBody
from app.deadlines.sweep import run_periodically
from app.web.endpoints import install as install_dashboard
from app.webhooks.delivery import DeliveryThread

log = logging.getLogger("admission")

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
    }.items()
}


def _error(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in err["loc"]), "problem": err["msg"]}
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AdmissionError)
    async def _admission_error(request: Request, exc: AdmissionError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        if isinstance(exc, TooManyRequests):
            headers["Retry-After"] = str(exc.retry_after)
        if exc.status in (401, 403, 429):
            log_refusal(request, exc.status, exc.code, exc.message)
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        fields = ", ".join(e["field"] for e in errors)
        return _error(422, "invalid", f"invalid input: {fields}", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "error")
        response = _error(exc.status_code, code, str(exc.detail))
        # Keep what Starlette says about the refusal, e.g. `Allow` on a 405.
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The id ties the client's report to the logged traceback, which stays here.
        rid = request_id(request) or uuid.uuid4().hex
        log.exception(
            "unhandled error on %s %s (request %s)",
            request.method,
            request.url.path,
            rid,
            extra={"request_id": rid},
        )
        return _error(500, "internal", "internal error", {"request_id": rid})


def _document_idempotency(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_header(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None, context: AppContext | None = None) -> FastAPI:
    context = context or AppContext.from_settings(settings or get_settings())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        interval = context.settings.overdue_sweep_seconds
        sweeper = asyncio.create_task(run_periodically(context, interval)) if interval else None
        delivery = DeliveryThread(context) if context.settings.webhook_delivery_in_serve else None
        if delivery is not None:
            delivery.start()
        yield
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        if delivery is not None:
            await asyncio.to_thread(delivery.stop)
        context.engine.dispose()

    app = FastAPI(
        title="QTSC Chain admission engine",
        version="1.0.0",
        description="Membership admission workflow for the Quang Trung Software Park Chain.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.context = context
    app.state.auth_failures = FailureLimiter(
        context.settings.auth_failure_limit, context.settings.auth_failure_window_seconds
    )
    # Inside the body cap, so that only bodies within it are spooled and fingerprinted.
    app.add_middleware(Idempotency, context=context)
    app.add_middleware(BodySizeLimit, max_bytes=context.settings.max_json_body_bytes)
    install_error_handlers(app)
    for router in (
        cases_router,
        documents_router,
        consultations_router,
        history_router,
        pipeline_router,
        events_router,
        letters_router,
        portal_router,
        webhooks_router,
    ):
        app.include_router(router)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    def readyz() -> Response:
        """Readiness: the database answers `SELECT 1`."""
        if database_ready(context):
            return JSONResponse({"status": "ready"})
        return _error(503, "unavailable", "the database does not answer")

    @app.get("/metrics", tags=["operations"], response_class=Response)
    def metrics() -> Response:
        """Prometheus metrics: requests, transitions by action, cases by state, overdue."""
        return Response(render_metrics(context), media_type="text/plain; version=0.0.4")

    app.include_router(workflows_router)
    install_dashboard(app)
    _document_idempotency(app)
    # Outermost, so that every later layer (and every log line) has the request id.
    app.add_middleware(RequestContext)
    return app
