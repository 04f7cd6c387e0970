"""Request-scoped dependencies, as `Annotated` aliases used by every endpoint."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.api.auth import actor_of_async
from app.api.transaction import request_transaction
from app.auth.actor import Actor
from app.context import AppContext


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


async def get_session(request: Request) -> Session:
    """The request's one transaction (committed by `Transactions` before the response).

    Async because it does no I/O (the session opens on first use): no worker-thread hop."""
    return request_transaction(request.scope).session


DbSession = Annotated[Session, Depends(get_session)]
Context = Annotated[AppContext, Depends(get_context)]

# Declares the bearer scheme in the OpenAPI document; `actor_of` reads the header itself.
_bearer = HTTPBearer(auto_error=False, description="A token issued by `admission token create`.")


async def current_actor(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    return await actor_of_async(request)


CurrentActor = Annotated[Actor, Depends(current_actor)]
