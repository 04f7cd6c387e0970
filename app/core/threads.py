"""Where blocking database work runs: off the event loop, or on it when it cannot wait.

`in_worker_thread` is the event loop's own executor, without the capacity limiter and
context copying of `starlette.concurrency.run_in_threadpool`: for the service's short,
self-contained steps (authenticating, ending a transaction) that need neither.

`for_reading` runs a read: on the loop itself when the database is SQLite, in a worker thread
otherwise. An SQLite read (WAL journal) never waits: not for a writer, not for the network,
not for a pooled connection (its pool opens another rather than wait, see `app/core/db.py`),
so handing it to a thread costs more than it saves. A PostgreSQL read waits on the network
and on the pool, and so runs in a thread.
"""

import asyncio
import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine

P = ParamSpec("P")
T = TypeVar("T")


async def in_worker_thread(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    loop = asyncio.get_running_loop()
    call: Callable[[], Any] = functools.partial(function, *args, **kwargs)
    result: T = await loop.run_in_executor(None, call)
    return result


def reads_on_loop(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


async def for_reading(
    engine: Engine, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    if reads_on_loop(engine):
        return function(*args, **kwargs)
    return await in_worker_thread(function, *args, **kwargs)
