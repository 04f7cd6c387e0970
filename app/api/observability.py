"""Request ids, one JSON log line per request, and Prometheus metrics.

`RequestContext` is the outermost middleware: it sets `request.state.request_id` (taken from
a sane `X-Request-ID` or generated) before anything else runs, echoes it in the response,
times the request and counts it by route template and status. Other code relies on
`request.state.request_id` being there.
"""

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.cases.models import Case
from app.context import AppContext
from app.core.db import unit_of_work
from app.events.models import Event
from app.webhooks.metrics import WebhookFigures

access_log = logging.getLogger("admission.access")

REQUEST_ID_HEADER = "x-request-id"
# A client's request id is echoed into logs and headers, so only plain tokens are kept.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

# Process-wide metrics (one registry for the process, so that apps built in tests share it).
REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "admission_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ("method", "route", "status"),
    registry=REGISTRY,
)
DURATION = Histogram(
    "admission_http_request_duration_seconds",
    "Time to answer HTTP requests, by method and route template.",
    ("method", "route"),
    registry=REGISTRY,
)
TRANSITIONS = Counter(
    "admission_transitions",
    "Committed case transitions, by action.",
    ("action",),
    registry=REGISTRY,
)


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestContext:
    """Pure ASGI middleware (streams pass through untouched, unlike BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == REQUEST_ID_HEADER.encode()),
            "",
        )
        rid = given if SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER.encode(), rid.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_of(scope)
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            DURATION.labels(scope["method"], route).observe(elapsed)
            actor = state.get("actor")
            access_log.info(
                "request",
                extra={
                    "request_id": rid,
                    "method": scope["method"],
                    "route": route,
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "actor_org": getattr(actor, "org_slug", None),
                    "actor_role": getattr(getattr(actor, "role", None), "value", None),
                },
            )


# --- transitions by action, counted when their transaction commits ------------------------


@event.listens_for(Session, "after_flush")
def _collect_transitions(session: Session, _context: Any) -> None:
    for obj in session.new:
        if isinstance(obj, Event) and obj.type == "case.transitioned":
            session.info.setdefault("transitions", []).append(str(obj.data.get("action")))


@event.listens_for(Session, "after_commit")
def _count_transitions(session: Session) -> None:
    for action in session.info.pop("transitions", ()):
        TRANSITIONS.labels(action).inc()


@event.listens_for(Session, "after_rollback")
def _forget_transitions(session: Session) -> None:
    session.info.pop("transitions", None)


# --- figures read from the database at scrape time -----------------------------------------


class CaseFigures(Collector):
    """Cases by state and overdue cases, from the database (right across API processes)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterable[GaugeMetricFamily]:
        by_state = GaugeMetricFamily(
            "admission_cases", "Cases by current state.", labels=("workflow", "state")
        )
        overdue = GaugeMetricFamily(
            "admission_cases_overdue", "Cases past their due date, by state.", labels=("state",)
        )
        today = self.ctx.today()
        with unit_of_work(self.ctx.engine, write=False) as session:
            for workflow, state, n in session.execute(
                select(Case.workflow_key, Case.state, func.count()).group_by(
                    Case.workflow_key, Case.state
                )
            ):
                by_state.add_metric((workflow, state), int(n))
            for state, n in session.execute(
                select(Case.state, func.count()).where(Case.due_at < today).group_by(Case.state)
            ):
                overdue.add_metric((state,), int(n))
        yield by_state
        yield overdue


def render_metrics(ctx: AppContext) -> bytes:
    """The exposition text: process counters, then the database's figures."""
    figures = CollectorRegistry(auto_describe=False)
    figures.register(CaseFigures(ctx))
    figures.register(WebhookFigures(ctx))
    return generate_latest(REGISTRY) + generate_latest(figures)


def database_ready(ctx: AppContext) -> bool:
    try:
        with ctx.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        logging.getLogger("admission").warning("readiness check: database unreachable")
        return False
    return True


# --- JSON log lines ------------------------------------------------------------------------

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    """Send every log record (ours and uvicorn's) to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Our access line replaces uvicorn's, which would carry the query string.
    logging.getLogger("uvicorn.access").disabled = True
