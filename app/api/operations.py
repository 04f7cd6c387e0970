"""The operations routes: liveness, readiness and Prometheus metrics."""

import logging
from collections.abc import Iterable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.errors import render_error
from app.cases.workflow_versions import edited_workflows, unloaded_workflows
from app.context import AppContext
from app.core.metrics import PROCESS

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> Response:
    """Readiness: the database answers, and every workflow version a case uses is loaded as
    it was first published."""
    ctx: AppContext = request.app.state.context
    try:
        problems = unloaded_workflows(ctx) if database_ready(ctx) else None
        edited = edited_workflows(ctx) if problems == [] else []
    except SQLAlchemyError:
        logging.getLogger("admission").warning("readiness check: workflow versions unreadable")
        problems = None
    if problems is None:
        return render_error(503, "unavailable", "the database does not answer")
    if problems:
        return render_error(
            503,
            "workflow_unavailable",
            "; ".join(p.describe() for p in problems),
            {
                "unloaded": [
                    {"key": p.key, "version": p.version, "cases": p.cases} for p in problems
                ]
            },
        )
    if edited:
        return render_error(
            503,
            "workflow_unavailable",
            "; ".join(p.describe() for p in edited),
            {
                "edited": [
                    {"key": p.key, "version": p.version, "source": p.source, "cases": p.cases}
                    for p in edited
                ]
            },
        )
    return JSONResponse({"status": "ready"})


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus metrics: requests, transitions by action, cases by state, overdue."""
    figures: Iterable[Collector] = request.app.state.figures
    return Response(render_metrics(figures), media_type="text/plain; version=0.0.4")


def render_metrics(figures: Iterable[Collector]) -> bytes:
    """The exposition text: this process's counters, then the figures read at scrape time."""
    scraped = CollectorRegistry(auto_describe=False)
    for collector in figures:
        scraped.register(collector)
    return generate_latest(PROCESS) + generate_latest(scraped)


def database_ready(ctx: AppContext) -> bool:
    try:
        with ctx.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        logging.getLogger("admission").warning("readiness check: database unreachable")
        return False
    return True
