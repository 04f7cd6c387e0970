import asyncio
import re
import time
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from app.auth.actor import Actor
from app.core.context import AppContext
from app.core.db import unit_of_work
from app.core.deps import Context, StreamingActor
from app.core.errors import InvalidInput
from app.events.repository import EventRepository
from app.events.schemas import EventOut, EventPage

router = APIRouter(prefix="/api/v1/events", tags=["events"])

PAGE = 200
POLL_INTERVAL_SECONDS = 0.25
# An event id in ASCII digits that fits a signed 64-bit column (`str.isdigit` also accepts
# other scripts' digits, and a longer number overflows the database's integer).
CURSOR = re.compile(r"[0-9]{1,18}")


def _read(ctx: AppContext, actor: Actor, cursor: int) -> list[EventOut]:
    # A fresh transaction per look: a SQLite reader keeps its snapshot for as long as it lives.
    with unit_of_work(ctx.engine, write=False) as session:
        return [
            EventOut(id=e.id, type=e.type, case_id=e.case_id, at=e.at, data=e.data)
            for e in EventRepository(session).after(actor, cursor, PAGE)
        ]


@router.get("")
async def read_events(
    ctx: Context,
    actor: StreamingActor,
    after: Annotated[str, Query(description="The `next_cursor` of the previous page.")] = "0",
    wait: Annotated[float, Query(ge=0, description="Seconds to wait for news (at most 30).")] = 0,
) -> EventPage:
    """The ordered change feed; with `wait`, answers as soon as something newer is committed."""
    if not CURSOR.fullmatch(after):
        raise InvalidInput("invalid cursor", {"after": after})
    cursor = int(after)
    deadline = time.monotonic() + min(wait, ctx.settings.events_max_wait_seconds)
    while True:
        items = await run_in_threadpool(_read, ctx, actor, cursor)
        if items or time.monotonic() >= deadline:
            break
        await asyncio.sleep(POLL_INTERVAL_SECONDS)
    next_cursor = str(items[-1].id) if items else str(cursor)
    return EventPage(items=items, next_cursor=next_cursor)
