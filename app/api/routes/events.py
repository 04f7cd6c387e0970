import asyncio
import re
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from app.api.deps import Context, CurrentActor
from app.auth.actor import Actor
from app.context import AppContext
from app.core.cursors import SERIAL, anchored
from app.core.db import unit_of_work
from app.core.errors import InvalidInput
from app.events.repository import EventRepository
from app.events.schemas import EventOut, EventPage

router = APIRouter(prefix="/api/v1/events", tags=["events"])

PAGE = 200
POLL_INTERVAL_SECONDS = 0.25
# A comment line this often keeps proxies from closing an idle stream.
HEARTBEAT_SECONDS = 15.0
# An event id in ASCII digits that fits a signed 64-bit column (`str.isdigit` also accepts
# other scripts' digits, and a longer number overflows the database's integer).
CURSOR_PATTERN = anchored(SERIAL)
CURSOR = re.compile(CURSOR_PATTERN)


def _read(ctx: AppContext, actor: Actor, cursor: int) -> list[EventOut]:
    # A fresh transaction per look: a SQLite reader keeps its snapshot for as long as it lives.
    with unit_of_work(ctx.engine, write=False) as session:
        return [
            EventOut(id=e.id, type=e.type, case_id=e.case_id, at=e.at, data=e.data)
            for e in EventRepository(session).after(actor, ctx.workflows, cursor, PAGE)
        ]


def _cursor(value: str, name: str) -> int:
    if not CURSOR.fullmatch(value):
        raise InvalidInput("invalid cursor", {name: value})
    return int(value)


@router.get("")
async def read_events(
    ctx: Context,
    actor: CurrentActor,
    after: Annotated[
        str,
        Query(pattern=CURSOR_PATTERN, description="The `next_cursor` of the previous page."),
    ] = "0",
    wait: Annotated[float, Query(ge=0, description="Seconds to wait for news (at most 30).")] = 0,
) -> EventPage:
    """The ordered change feed; with `wait`, answers as soon as something newer is committed."""
    cursor = _cursor(after, "after")
    deadline = time.monotonic() + min(wait, ctx.settings.events_max_wait_seconds)
    while True:
        items = await run_in_threadpool(_read, ctx, actor, cursor)
        if items or time.monotonic() >= deadline:
            break
        await asyncio.sleep(POLL_INTERVAL_SECONDS)
    next_cursor = str(items[-1].id) if items else str(cursor)
    return EventPage(items=items, next_cursor=next_cursor)


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The feed as SSE"}},
)
async def stream_events(
    request: Request,
    ctx: Context,
    actor: CurrentActor,
    after: Annotated[
        str | None, Query(pattern=CURSOR_PATTERN, description="Start after this event id.")
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(
            pattern=CURSOR_PATTERN,
            description="Set by EventSource on resume: the last event id it received.",
        ),
    ] = None,
) -> EventSourceResponse:
    """The same feed as Server-Sent Events: `id` is the event id, `event` its type, `data`
    the event as JSON. A reconnecting client resumes after its `Last-Event-ID`."""
    if last_event_id is not None:
        cursor = _cursor(last_event_id, "Last-Event-ID")
    else:
        cursor = _cursor(after or "0", "after")

    async def feed() -> AsyncIterator[ServerSentEvent]:
        position = cursor
        while not await request.is_disconnected():
            items = await run_in_threadpool(_read, ctx, actor, position)
            for item in items:
                # No `event:` name: every item is a plain message, its type is in the data.
                yield ServerSentEvent(data=item.model_dump_json(), id=str(item.id))
                position = item.id
            if len(items) < PAGE:
                await asyncio.sleep(POLL_INTERVAL_SECONDS)

    return EventSourceResponse(
        feed(),
        ping=HEARTBEAT_SECONDS,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
