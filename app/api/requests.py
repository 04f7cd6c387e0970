"""Request ids, one JSON log line per request, and the answer to an unexpected error.

`RequestContext` is the outermost layer: it sets `request.state.request_id` (taken from a
sane `X-Request-ID` or generated) before anything else runs, echoes it in the response, times
the request and counts it by route template and status. An exception nothing else handled is
logged with its traceback here and answered as a 500 that carries the same request id.
"""

import logging
import re
import time
import uuid

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.auth import ACTOR
from app.api.errors import render_error
from app.core.metrics import PROCESS

access_log = logging.getLogger("admission.access")
log = logging.getLogger("admission")

REQUEST_ID_HEADER = "x-request-id"
# A client's request id is echoed into logs and headers, so only plain tokens are kept.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

REQUESTS = Counter(
    "admission_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ("method", "route", "status"),
    registry=PROCESS,
)
DURATION = Histogram(
    "admission_http_request_duration_seconds",
    "Time to answer HTTP requests, by method and route template.",
    ("method", "route"),
    registry=PROCESS,
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
        started_response = False
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status = message["status"]
                started_response = True
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER.encode(), rid.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # The id ties the client's report to the logged traceback, which stays here.
            log.exception(
                "unhandled error on %s %s (request %s)",
                scope["method"],
                scope.get("path"),
                rid,
                extra={"request_id": rid},
            )
            if started_response:
                raise
            response = render_error(500, "internal", "internal error", {"request_id": rid})
            await response(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_of(scope)
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            DURATION.labels(scope["method"], route).observe(elapsed)
            actor = state.get(ACTOR)
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
