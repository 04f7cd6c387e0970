"""The two reads that dashboards repeat most, answered before the app is entered when they can be.

- A **poll of the pipeline** (`GET /api/v1/pipeline` with `If-None-Match`) that finds the
  page unchanged: 304.
- A **case read** (`GET /api/v1/cases/{id}`) whose body for this reader, version and day is
  kept (`app.state.case_bodies`, filled by the route): the kept body.

`ReadShortcuts` does, on one pooled connection without an ORM session or a transaction, what
the routes do first: looks the bearer token up (`grant_by_hash`, `actor_of_grant`), then reads
the page's tag (`pipeline.service.tag_on`) or the case's version where the reader may see it
(`access.visible_version`). Anything else goes on to the app unchanged, which answers as it
always does: no bearer token, a token that is not good, a use of the token that is due to be
recorded, an address over its failure limit, a query the route would refuse, a tag that moved,
a body not kept, a case not visible, a database that does not answer. The request keeps its
request id, access log line and metrics (`RequestContext` is outside this layer).
"""

import re
import uuid
from typing import NamedTuple

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers, QueryParams
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from app.access import visible_version
from app.admission.views import kept_key
from app.api.auth import ACTOR
from app.api.http import etag
from app.api.security import FailureLimiter, client_address
from app.auth.actor import Actor
from app.auth.repository import grant_by_hash
from app.auth.service import actor_of_grant, use_is_stale
from app.auth.tokens import hash_token
from app.context import AppContext
from app.core.cache import BodyCache
from app.core.db import single_reads
from app.core.errors import Unauthenticated
from app.core.i18n import Lang, negotiate
from app.core.threads import for_reading
from app.pipeline import service as pipeline

PIPELINE = "/api/v1/pipeline"
CASE_PREFIX = "/api/v1/cases/"
# The pipeline's query as its route validates it; a value it would refuse is left for it.
PAGE_LIMIT = re.compile(r"[1-9][0-9]{0,2}")
PIPELINE_CURSOR = re.compile(pipeline.CURSOR_PATTERN)


class Route(NamedTuple):
    """What the access log and the metrics name the request by (its route's template)."""

    path: str


PIPELINE_ROUTE = Route(PIPELINE)
CASE_ROUTE = Route(CASE_PREFIX + "{case_id}")


class Poll(NamedTuple):
    """A conditional read of one page of the pipeline."""

    if_none_match: str
    workflow: str | None
    province: str | None
    page: str


class CaseRead(NamedTuple):
    case_id: uuid.UUID
    lang: Lang


class Answer(NamedTuple):
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""


def bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def shortcut_of(scope: Scope, headers: Headers) -> Poll | CaseRead | None:
    """The repeated read an HTTP request is, or None when it is anything else."""
    if scope["method"] != "GET":
        return None
    path: str = scope["path"]
    if path == PIPELINE:
        return _poll(scope, headers)
    if path.startswith(CASE_PREFIX):
        try:
            case_id = uuid.UUID(path[len(CASE_PREFIX) :])
        except ValueError:
            return None
        return CaseRead(case_id, negotiate(headers.get("accept-language")))
    return None


def _poll(scope: Scope, headers: Headers) -> Poll | None:
    if_none_match = headers.get("if-none-match")
    if not if_none_match:
        return None
    query = QueryParams(scope["query_string"])
    workflow, province = query.get("workflow"), query.get("province")
    if any("\x00" in value for value in (workflow, province) if value is not None):
        return None
    limit = query.get("limit", str(pipeline.DEFAULT_PAGE))
    if not PAGE_LIMIT.fullmatch(limit) or int(limit) > pipeline.MAX_PAGE:
        return None
    cursor = query.get("cursor")
    if cursor is not None and not PIPELINE_CURSOR.search(cursor):
        return None
    return Poll(if_none_match, workflow, province, pipeline.page_name(int(limit), cursor))


def answer(
    reads: Engine, ctx: AppContext, kept: BodyCache, token: str, read: Poll | CaseRead
) -> tuple[Actor, Answer] | None:
    """The reader and the answer to its read; None when the app must answer instead."""
    with reads.connect() as connection:
        try:
            actor = actor_of_grant(grant_by_hash(connection, hash_token(token)))
        except Unauthenticated:
            return None
        if use_is_stale(actor, ctx.now()):
            return None
        if isinstance(read, Poll):
            found = _unchanged_page(connection, ctx, actor, read)
        else:
            found = _kept_case(connection, ctx, kept, actor, read)
    return (actor, found) if found is not None else None


def _unchanged_page(
    connection: Connection, ctx: AppContext, actor: Actor, poll: Poll
) -> Answer | None:
    tag = pipeline.tag_on(connection, ctx, actor, poll.workflow, poll.province, poll.page)
    if not pipeline.matches(poll.if_none_match, tag):
        return None
    return Answer(304, [(b"etag", tag.encode()), (b"cache-control", b"private, no-cache")])


def _kept_case(
    connection: Connection, ctx: AppContext, kept: BodyCache, actor: Actor, read: CaseRead
) -> Answer | None:
    version = visible_version(connection, actor, read.case_id)
    if version is None:
        return None
    body = kept.get(kept_key(read.case_id, version, actor, ctx.today(), read.lang))
    if body is None:
        return None
    headers = [
        (b"content-length", str(len(body)).encode()),
        (b"content-type", b"application/json"),
        (b"etag", etag(version).encode()),
    ]
    return Answer(200, headers, body)


class ReadShortcuts:
    """Pure ASGI middleware: the repeated reads answered when they can be, all else passed on."""

    def __init__(self, app: ASGIApp, context: AppContext) -> None:
        self.app = app
        self.ctx = context
        self.reads = single_reads(context.engine)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        read = shortcut_of(scope, headers)
        token = bearer_token(headers) if read is not None else None
        if read is None or token is None or not await self._answered(scope, send, token, read):
            await self.app(scope, receive, send)

    async def _answered(self, scope: Scope, send: Send, token: str, read: Poll | CaseRead) -> bool:
        state = scope["app"].state
        limiter: FailureLimiter = state.auth_failures
        if limiter.retry_after(client_address(HTTPConnection(scope))) is not None:
            return False
        try:
            found = await for_reading(
                self.reads, answer, self.reads, self.ctx, state.case_bodies, token, read
            )
        except SQLAlchemyError:
            return False
        if found is None:
            return False
        actor, reply = found
        scope.setdefault("state", {})[ACTOR] = actor
        scope["route"] = PIPELINE_ROUTE if isinstance(read, Poll) else CASE_ROUTE
        await send(
            {"type": "http.response.start", "status": reply.status, "headers": reply.headers}
        )
        await send({"type": "http.response.body", "body": reply.body})
        return True
