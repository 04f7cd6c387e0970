"""Running blocking work (database I/O) off the event loop, with as little overhead as it takes.

The event loop's own executor, without the capacity limiter and context copying of
`starlette.concurrency.run_in_threadpool`: for the service's short, self-contained steps
(authenticating, ending a transaction) that need neither.
"""

import asyncio
import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


async def in_worker_thread(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    loop = asyncio.get_running_loop()
    call: Callable[[], Any] = functools.partial(function, *args, **kwargs)
    result: T = await loop.run_in_executor(None, call)
    return result
