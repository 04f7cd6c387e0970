"""Request-scoped dependencies, as `Annotated` aliases used by every endpoint."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.api.auth import actor_of_async
from app.api.transaction import request_transaction
from app.auth.actor import Actor
from app.context import AppContext


async def get_context(request: Request) -> AppContext:
    # Async: a plain function dependency would cost the request a worker thread.
    context: AppContext = request.app.state.context
    return context


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's one transaction, ended as soon as the endpoint returns (see
    `app/api/transaction.py`); async, so that handing it over costs no worker thread."""
    transaction = request_transaction(request.scope)
    try:
        yield transaction.session
    except BaseException:
        await transaction.end_of_endpoint(ok=False)
        raise
    await transaction.end_of_endpoint(ok=True)


DbSession = Annotated[Session, Depends(get_session, scope="function")]
Context = Annotated[AppContext, Depends(get_context)]

# Declares the bearer scheme in the OpenAPI document; `actor_of` reads the header itself.
_bearer = HTTPBearer(auto_error=False, description="A token issued by `admission token create`.")


async def current_actor(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    return await actor_of_async(request)


CurrentActor = Annotated[Actor, Depends(current_actor)]
