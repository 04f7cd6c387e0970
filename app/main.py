"""The FastAPI application: routers, error rendering, health."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.cases.endpoints import router as cases_router
from app.consultations.endpoints import router as consultations_router
from app.core.config import Settings, get_settings
from app.core.context import AppContext
from app.core.errors import AdmissionError
from app.documents.endpoints import router as documents_router
from app.events.endpoints import router as events_router
from app.history.endpoints import router as history_router
from app.pipeline.endpoints import router as pipeline_router

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
    async def _admission_error(_: Request, exc: AdmissionError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        response = JSONResponse(exc.body(), status_code=exc.status, headers=headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        fields = ", ".join(e["field"] for e in errors)
        return _error(422, "invalid", f"invalid input: {fields}", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "error")
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(500, "internal", "internal error")


def create_app(settings: Settings | None = None, context: AppContext | None = None) -> FastAPI:
    context = context or AppContext.from_settings(settings or get_settings())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        context.engine.dispose()

    app = FastAPI(
        title="QTSC Chain admission engine",
        version="1.0.0",
        description="Membership admission workflow for the Quang Trung Software Park Chain.",
        lifespan=lifespan,
    )
    app.state.context = context
    install_error_handlers(app)
    for router in (
        cases_router,
        documents_router,
        consultations_router,
        history_router,
        pipeline_router,
        events_router,
    ):
        app.include_router(router)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    return app
