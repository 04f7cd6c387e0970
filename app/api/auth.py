"""Authentication, once per request: whoever needs the actor first resolves it, the rest reuse it.

The endpoint's dependency (`CurrentActor`), the idempotency layer (which keys by the
caller's organisation) and the dashboard's pages all call `actor_of`, which looks the bearer
token up at most once per request and keeps the outcome — the actor, or the refusal — in the
request's scope. A read request looks the token up in its own read transaction; a write request
in a short read of its own, so that an upload streaming in holds no lock. Recording a token's
use is a short write of its own that never makes a request wait on another writer.

A request without an `Authorization` header may carry a person's session cookie instead (the
dashboard). Such a request may change something only with the page's CSRF token in the
`X-CSRF-Token` header: a cross-site form can send the cookie (were SameSite not honoured)
but never the header. Bearer requests are unchanged: no cookie is read for them.
"""

import asyncio
from datetime import timedelta

from starlette.requests import HTTPConnection

from app.api.security import FailureLimiter, client_address
from app.api.transaction import TRANSACTION, RequestTransaction
from app.auth.actor import Actor
from app.auth.service import authenticate, record_use, use_is_stale
from app.auth.signin import COOKIE, SessionPolicy, authenticate_session, csrf_matches
from app.context import AppContext
from app.core.db import unit_of_work
from app.core.errors import AdmissionError, CsrfRefused, TooManyRequests, Unauthenticated
from app.core.threads import for_reading, in_worker_thread

# Keys, in an ASGI scope's "state", of the outcome of authenticating the request.
ACTOR = "actor"
REFUSAL = "auth_refusal"
UNRECORDED_USE = "unrecorded_token_use"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"


def session_policy(ctx: AppContext) -> SessionPolicy:
    s = ctx.settings
    return SessionPolicy(
        idle=timedelta(minutes=s.session_idle_minutes),
        absolute=timedelta(hours=s.session_absolute_hours),
        account_limit=s.signin_account_limit,
        lock=timedelta(minutes=s.signin_lock_minutes),
    )


def session_cookie(connection: HTTPConnection) -> str | None:
    value = connection.cookies.get(COOKIE)
    return value or None


def _resolve(connection: HTTPConnection) -> Actor:
    state = connection.scope.setdefault("state", {})
    if ACTOR in state:
        actor: Actor = state[ACTOR]
        return actor
    if REFUSAL in state:
        raise state[REFUSAL]
    header = connection.headers.get("authorization")
    cookie = session_cookie(connection) if header is None else None
    scheme, _, token = (header or "").partition(" ")
    try:
        if cookie is not None:
            state[ACTOR] = authenticate_cookie(connection, cookie)
            return state[ACTOR]
        if scheme.lower() != "bearer":
            token = ""
        state[ACTOR] = authenticate_token(connection, token)
    except AdmissionError as exc:
        state[REFUSAL] = exc
        raise
    return state[ACTOR]


def authenticate_token(connection: HTTPConnection, token: str) -> Actor:
    """The actor `token` stands for, counting a failure against the client's address."""
    ctx: AppContext = connection.app.state.context
    limiter: FailureLimiter = connection.app.state.auth_failures
    address = client_address(connection)
    wait = limiter.retry_after(address)
    if wait is not None:
        raise TooManyRequests("too many failed authentications; try again later", wait)
    if not token.strip():
        raise Unauthenticated("a bearer token is required")
    try:
        actor = _look_up(connection, ctx, token.strip())
    except Unauthenticated:
        limiter.record_failure(address)
        raise
    now = ctx.now()
    if use_is_stale(actor, now):
        if _on_event_loop():
            # A write that may wait a little for SQLite's lock: done off the loop, by
            # `actor_of_async`, before the request goes on.
            connection.scope["state"][UNRECORDED_USE] = now
        else:
            record_use(ctx.engine, actor, now)
    return actor


def authenticate_cookie(
    connection: HTTPConnection, cookie: str, *, allow_password_change: bool = False
) -> Actor:
    """The person a session cookie stands for; a change needs the page's CSRF token too."""
    ctx: AppContext = connection.app.state.context
    method = connection.scope.get("method", "GET")
    if method not in SAFE_METHODS and not csrf_matches(cookie, connection.headers.get(CSRF_HEADER)):
        raise CsrfRefused("this change needs the page's CSRF token (X-CSRF-Token); reload the page")
    now = ctx.now()
    policy = session_policy(ctx)
    transaction = connection.scope.get("state", {}).get(TRANSACTION)
    if isinstance(transaction, RequestTransaction) and not transaction.write:
        actor = authenticate_session(
            transaction.session, policy, cookie, now, allow_stale=allow_password_change
        )
    else:
        with unit_of_work(ctx.engine, write=False) as session:
            actor = authenticate_session(
                session, policy, cookie, now, allow_stale=allow_password_change
            )
    if use_is_stale(actor, now):
        if _on_event_loop():
            connection.scope["state"][UNRECORDED_USE] = now
        else:
            record_use(ctx.engine, actor, now)
    return actor


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _look_up(connection: HTTPConnection, ctx: AppContext, token: str) -> Actor:
    """A read request looks the token up in its own (read) transaction; a write request in
    a short read of its own, so that its write transaction starts only when it writes."""
    transaction = connection.scope.get("state", {}).get(TRANSACTION)
    if isinstance(transaction, RequestTransaction) and not transaction.write:
        return authenticate(transaction.session, token)
    with unit_of_work(ctx.engine, write=False) as session:
        return authenticate(session, token)


def actor_of(connection: HTTPConnection) -> Actor:
    """The request's actor; 401 (or 429) if it has none. Call from a worker thread."""
    return _resolve(connection)


async def actor_of_async(connection: HTTPConnection) -> Actor:
    state = connection.scope.get("state", {})
    if ACTOR in state:
        actor: Actor = state[ACTOR]
        return actor
    transaction = state.get(TRANSACTION)
    if isinstance(transaction, RequestTransaction) and not transaction.write:
        # In the request's read transaction: where its reads run.
        actor = await for_reading(transaction.engine, _resolve, connection)
        if (used_at := state.pop(UNRECORDED_USE, None)) is not None:
            ctx: AppContext = connection.app.state.context
            await in_worker_thread(record_use, ctx.engine, actor, used_at)
        return actor
    return await in_worker_thread(_resolve, connection)


def optional_actor(connection: HTTPConnection) -> Actor | None:
    """The request's actor, or None when it has no valid credentials (the dashboard)."""
    if "authorization" not in connection.headers and session_cookie(connection) is None:
        return None
    try:
        return _resolve(connection)
    except Unauthenticated:
        return None
