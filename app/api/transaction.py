"""The request's one transaction, and the one layer that ends it.

`Transactions` (an ASGI layer) gives every HTTP request a `RequestTransaction`, whose session
opens on first use (so a request that streams an upload in first takes no lock meanwhile).
The transaction ends at the first of: the endpoint returned (`end_of_endpoint`, called by
the session dependency: committed, or rolled back if the endpoint raised), unless a layer
holds it; or the response starts (committed when the status is below 400, else rolled back).
A response is therefore never sent for a change that did not commit, and SQLite's write lock
is not held while the response is serialised. A layer that must write in the same transaction
after the endpoint ran (the idempotency layer stores the response there) holds it, and
writes before passing the response on.
"""

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import render_admission_error, render_stale
from app.core.db import commit, open_session, rollback
from app.core.errors import AdmissionError
from app.core.threads import in_worker_thread

# Key, in an ASGI scope's "state" and in its session's `info`, of the request's transaction.
TRANSACTION = "transaction"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RequestTransaction:
    def __init__(self, engine: Engine, *, write: bool) -> None:
        self.engine = engine
        self.write = write
        self._session: Session | None = None
        self.finished = False
        # Set by a layer that writes in this transaction after the endpoint (idempotency).
        self.held = False

    @property
    def opened(self) -> bool:
        return self._session is not None

    @property
    def session(self) -> Session:
        if self.finished:
            raise RuntimeError("the request's transaction has ended")
        if self._session is None:
            self._session = open_session(self.engine, write=self.write)
            self._session.info[TRANSACTION] = self
        return self._session

    def finish(self, *, ok: bool) -> None:
        """Commit (`ok`) or roll back, once; a later call does nothing."""
        if self.finished:
            return
        self.finished = True
        session, self._session = self._session, None
        if session is None:
            return
        try:
            if ok:
                commit(session)
            else:
                rollback(session)
        except BaseException:
            rollback(session)
            raise
        finally:
            session.close()

    async def end_of_endpoint(self, *, ok: bool) -> None:
        """The endpoint is done: end the transaction now, unless a layer holds it.

        A read transaction ends right here: ending it waits on no lock and writes nothing, so
        it costs less than handing it to a worker thread. A write transaction's commit (its
        flush to disk, its wait for the database) runs in a worker thread.
        """
        if not self.opened or self.held:
            return
        if self.write:
            await in_worker_thread(self.finish, ok=ok)
        else:
            self.finish(ok=ok)


P = ParamSpec("P")
T = TypeVar("T")


def commits_in_its_thread(endpoint: Callable[P, T]) -> Callable[P, T]:
    """For a plain endpoint that writes (the framework runs it in a worker thread): end the
    request's transaction in that thread as soon as the endpoint is done, committed or rolled
    back, instead of after a trip back to the event loop. SQLite's write lock, and
    PostgreSQL's row locks, are then held only while the work runs. A layer that holds the
    transaction (idempotency) still ends it itself."""

    @functools.wraps(endpoint)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        session = kwargs["session"]
        try:
            result = endpoint(*args, **kwargs)
        except BaseException:
            end_here(session, ok=False)
            raise
        end_here(session, ok=True)
        return result

    return run


def end_here(session: object, *, ok: bool) -> None:
    """End the request's transaction that `session` belongs to, in the calling thread."""
    transaction = getattr(session, "info", {}).get(TRANSACTION)
    if isinstance(transaction, RequestTransaction) and not transaction.held:
        transaction.finish(ok=ok)


def request_transaction(scope: Scope) -> RequestTransaction:
    transaction: RequestTransaction = scope["state"][TRANSACTION]
    return transaction


class Transactions:
    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        transaction = RequestTransaction(self.engine, write=scope["method"] not in READ_METHODS)
        scope.setdefault("state", {})[TRANSACTION] = transaction
        replaced = False

        async def send_after_commit(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the endpoint's response was replaced by an error
            if message["type"] == "http.response.start" and not transaction.finished:
                failure = await _finish(transaction, ok=message["status"] < 400)
                if failure is not None:
                    replaced = True
                    await failure(scope, receive, send)
                    return
            await send(message)

        try:
            await self.app(scope, receive, send_after_commit)
        finally:
            if transaction.opened:
                await in_worker_thread(transaction.finish, ok=False)
            transaction.finish(ok=False)


async def _finish(transaction: RequestTransaction, *, ok: bool) -> Any:
    """End the transaction; the error response to send instead if the commit failed."""
    if not transaction.opened:
        transaction.finish(ok=ok)  # nothing to end: no worker thread needed
        return None
    try:
        await in_worker_thread(transaction.finish, ok=ok)
    except StaleDataError:
        return render_stale()
    except AdmissionError as exc:
        return render_admission_error(exc)
    return None
