"""Request-scoped dependencies, as `Annotated` aliases used by every endpoint."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.auth.service import authenticate
from app.core.context import AppContext
from app.core.db import unit_of_work
from app.core.errors import Unauthenticated

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def get_session(request: Request) -> Iterator[Session]:
    """The request's one transaction: committed before the response is sent, or rolled back."""
    engine = get_context(request).engine
    with unit_of_work(engine, write=request.method not in READ_METHODS) as session:
        yield session


DbSession = Annotated[Session, Depends(get_session, scope="function")]
Context = Annotated[AppContext, Depends(get_context)]

_bearer = HTTPBearer(auto_error=False, description="A token issued by `admission token create`.")


def current_actor(
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("a bearer token is required")
    return authenticate(session, credentials.credentials)


CurrentActor = Annotated[Actor, Depends(current_actor)]


def streaming_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """Authenticate in a short read of its own, for endpoints that stream a body before writing:
    the request's write transaction must not be open (and hold SQLite's lock) while bytes arrive."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("a bearer token is required")
    with unit_of_work(get_context(request).engine, write=False) as session:
        return authenticate(session, credentials.credentials)


StreamingActor = Annotated[Actor, Depends(streaming_actor)]
