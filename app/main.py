"""The FastAPI application: its layers, routers and background tasks, put together."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.admission.registry import build_context
from app.api import openapi
from app.api.errors import ERROR_RESPONSES, install_error_handlers
from app.api.idempotency import Idempotency
from app.api.limits import BodySizeLimit
from app.api.operations import router as operations_router
from app.api.requests import RequestContext
from app.api.routes.cases import router as cases_router
from app.api.routes.consultations import router as consultations_router
from app.api.routes.documents import router as documents_router
from app.api.routes.events import router as events_router
from app.api.routes.history import router as history_router
from app.api.routes.letters import router as letters_router
from app.api.routes.pipeline import router as pipeline_router
from app.api.routes.portal import router as portal_router
from app.api.routes.webhooks import router as webhooks_router
from app.api.routes.work import router as work_router
from app.api.routes.workflows import router as workflows_router
from app.api.security import FailureLimiter
from app.api.shortcuts import ReadShortcuts
from app.api.transaction import Transactions
from app.cases.metrics import CaseFigures
from app.cases.workflow_versions import check_at_startup
from app.context import AppContext
from app.core.cache import BodyCache
from app.core.config import Settings, get_settings
from app.deadlines.sweep import run_periodically
from app.web.endpoints import install as install_dashboard
from app.webhooks.delivery import DeliveryThread
from app.webhooks.metrics import WebhookFigures


def install_state(app: FastAPI, context: AppContext) -> None:
    """The application's per-process state: the context, the failed-authentication and
    sign-in limiters, the metrics collectors and the kept response bodies, all new."""
    settings = context.settings
    app.state.context = context
    app.state.auth_failures = FailureLimiter(
        settings.auth_failure_limit, settings.auth_failure_window_seconds
    )
    app.state.signin_failures = FailureLimiter(
        settings.signin_address_limit, settings.signin_address_window_seconds
    )
    app.state.figures = [CaseFigures(context), WebhookFigures(context)]
    app.state.pipeline_bodies = BodyCache()
    app.state.case_bodies = BodyCache(size=4096)


def create_app(settings: Settings | None = None, context: AppContext | None = None) -> FastAPI:
    context = context or build_context(settings or get_settings())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Refuse to serve a database whose cases use workflow versions that are not loaded.
        await asyncio.to_thread(check_at_startup, context)
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
    install_state(app, context)
    # Listed innermost first. Idempotency writes the stored response in the request's
    # transaction, which `Transactions` then commits; both sit inside the body cap, so that
    # only bodies within it are read.
    app.add_middleware(Idempotency, context=context)
    app.add_middleware(Transactions, engine=context.engine)
    app.add_middleware(BodySizeLimit, max_bytes=context.settings.max_json_body_bytes)
    install_error_handlers(app)
    for router in (
        operations_router,
        cases_router,
        documents_router,
        consultations_router,
        history_router,
        pipeline_router,
        events_router,
        letters_router,
        portal_router,
        webhooks_router,
        work_router,
    ):
        app.include_router(router)

    app.include_router(workflows_router)
    install_dashboard(app)
    openapi.install(app, context)
    # Unchanged pipeline polls and kept case reads are answered before everything above
    # (see `app/api/shortcuts.py`).
    app.add_middleware(ReadShortcuts, context=context)
    # Outermost, so that every later layer (and every log line) has the request id.
    app.add_middleware(RequestContext)
    return app
