"""Request-scoped dependencies, as `Annotated` aliases used by every endpoint."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.api.security import FailureLimiter, client_address
from app.auth.actor import Actor
from app.auth.service import authenticate, record_use
from app.context import AppContext
from app.core.db import request_unit_of_work, unit_of_work
from app.core.errors import TooManyRequests, Unauthenticated
from app.core.models import utcnow

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def get_session(request: Request) -> Iterator[Session]:
    """The request's one transaction: committed before the response is sent, or rolled back."""
    engine = get_context(request).engine
    write = request.method not in READ_METHODS
    with request_unit_of_work(request.scope.get("state", {}), engine, write=write) as session:
        yield session


DbSession = Annotated[Session, Depends(get_session, scope="function")]
Context = Annotated[AppContext, Depends(get_context)]

_bearer = HTTPBearer(auto_error=False, description="A token issued by `admission token create`.")


def _actor(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Actor:
    """Authenticate in a short read of its own, then record the token's use if it is stale.

    Neither touches the request's own transaction, which has not begun yet: the request's
    write lock (SQLite) is never held while bytes stream in, and recording a use never
    makes a read request wait for, or fail on, another writer.
    """
    context = get_context(request)
    limiter: FailureLimiter = request.app.state.auth_failures
    address = client_address(request)
    wait = limiter.retry_after(address)
    if wait is not None:
        raise TooManyRequests("too many failed authentications; try again later", wait)
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("a bearer token is required")
    try:
        with unit_of_work(context.engine, write=False) as session:
            actor = authenticate(session, credentials.credentials)
    except Unauthenticated:
        limiter.record_failure(address)
        raise
    record_use(context.engine, actor, utcnow())
    # For the access log line (app/core/observability.py): who made the request.
    request.state.actor = actor
    return actor


def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    return _actor(request, credentials)


CurrentActor = Annotated[Actor, Depends(current_actor)]


def streaming_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """For endpoints that stream a body before writing: the request's write transaction
    must not be open (and hold SQLite's lock) while bytes arrive."""
    return _actor(request, credentials)


StreamingActor = Annotated[Actor, Depends(streaming_actor)]
