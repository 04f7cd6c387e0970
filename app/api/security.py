"""Security plumbing: the security log, the request id it carries, and slowing down guessers.

The failure limiter is in-process, on purpose: each API process (each `--workers` process of
each host) counts the failed authentications of each client address on its own. Behind a load
balancer with N processes in all, a client gets up to N times `AUTH_FAILURE_LIMIT` failures per
window before every process answers 429. That is enough for what it is for: the secrets it
guards are 256-bit tokens (there are no passwords), which no rate of guessing can find, so it
only keeps a broken or hostile client from flooding the log and the token look-ups. Counting
in the shared database instead would turn each bad request into a database write, on the one
resource every host shares: a flood of bad tokens would become a flood of writes. An operator
who wants a figure for the whole cluster sets the limit to it divided by N.
"""

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable

from starlette.requests import HTTPConnection

log = logging.getLogger("admission.security")

# Addresses tracked at most; beyond this the oldest idle ones are forgotten first.
MAX_TRACKED_CLIENTS = 10_000


def request_id(request: HTTPConnection) -> str | None:
    """The id the request-id middleware gave this request, if it has run."""
    value = getattr(request.state, "request_id", None)
    return str(value) if value is not None else None


def client_address(request: HTTPConnection) -> str:
    return request.client.host if request.client else "unknown"


def log_refusal(request: HTTPConnection, status: int, code: str, message: str) -> None:
    """One line per refused authentication or authorization; never the token itself."""
    log.warning(
        "refused %s %s: %s %s (%s)",
        request.scope.get("method", "-"),
        request.url.path,
        status,
        code,
        message,
        extra={
            "event": "auth_refused",
            "status": status,
            "code": code,
            "client": client_address(request),
            "method": request.scope.get("method"),
            "path": request.url.path,
            "request_id": request_id(request),
        },
    )


class FailureLimiter:
    """Counts failures per key in a sliding window; over `limit`, the key waits."""

    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int | None:
        """Seconds the key must wait before trying again, or None if it may try now."""
        with self._lock:
            now = self.clock()
            failures = self._recent(key, now)
            if failures is None or len(failures) < self.limit:
                return None
            return max(1, math.ceil(failures[0] + self.window - now))

    def record_failure(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            failures = self._recent(key, now)
            if failures is None:
                if len(self._failures) >= MAX_TRACKED_CLIENTS:
                    self._forget_idle(now)
                failures = self._failures[key] = deque()
            failures.append(now)
            # Keep no more than needed to decide.
            while len(failures) > self.limit:
                failures.popleft()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        failures = self._failures.get(key)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return None
        return failures

    def _forget_idle(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)
        while len(self._failures) >= MAX_TRACKED_CLIENTS:
            del self._failures[next(iter(self._failures))]
