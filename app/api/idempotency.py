"""`Idempotency-Key` on POST requests to the API (see app/idempotency/service.py).

The layer reads the whole body first (spooled to disk past a megabyte) to fingerprint it,
claims the key, then runs the request: the response is captured and stored in the
request's own transaction, which `Transactions` (the layer outside this one) commits with
the request's changes before the response goes out. Refusals are stored after the fact
(their request changed nothing); server errors give the key back.
"""

import tempfile
from datetime import timedelta
from typing import IO

from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.auth import actor_of_async
from app.api.errors import render_admission_error, request_lang
from app.api.limits import upload_body_limit
from app.api.transaction import RequestTransaction, request_transaction
from app.context import AppContext
from app.core.errors import AdmissionError, IdempotencyKeyInUse, InvalidInput, TooLarge
from app.idempotency import service
from app.idempotency.service import Claim, Fingerprint, StoredResponse

API_PREFIX = "/api/"
SPOOL_IN_MEMORY_BYTES = 1024 * 1024
CHUNK = 64 * 1024


class Idempotency:
    def __init__(self, app: ASGIApp, context: AppContext) -> None:
        self.app = app
        self.ctx = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope) if scope["type"] == "http" else None
        if (
            headers is None
            or scope["method"] != "POST"
            or not scope["path"].startswith(API_PREFIX)
            or service.HEADER not in headers
        ):
            await self.app(scope, receive, send)
            return
        try:
            await self._handle(scope, receive, send, headers)
        except AdmissionError as exc:
            await render_admission_error(exc, request_lang(headers))(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, headers: Headers) -> None:
        key = service.parse_key(headers[service.HEADER])
        if key is None:
            raise InvalidInput(
                "Idempotency-Key must be 1 to 255 printable ASCII characters",
                [{"field": "header.Idempotency-Key", "problem": "malformed"}],
            )
        try:
            actor = await actor_of_async(HTTPConnection(scope))
        except AdmissionError:
            # Not authenticated: the API answers 401 itself, and there is no one to key by.
            await self.app(scope, receive, send)
            return
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES) as body:
            request = service.Request(
                organisation_id=actor.org_id,
                key=key,
                fingerprint=await self._spool(scope, receive, headers, body),
                method=scope["method"],
                path=scope["path"],
            )
            settings = self.ctx.settings
            outcome = await run_in_threadpool(
                service.claim,
                self.ctx.engine,
                request,
                self.ctx.now(),
                ttl=timedelta(seconds=settings.idempotency_ttl_seconds),
                lease=timedelta(seconds=settings.idempotency_lease_seconds),
            )
            if isinstance(outcome, StoredResponse):
                await _send_stored(send, outcome, replayed=True)
                return
            response = await self._run(scope, body, outcome)
            await _send_stored(send, response, replayed=False)

    async def _spool(
        self, scope: Scope, receive: Receive, headers: Headers, body: IO[bytes]
    ) -> str:
        """Read the body into `body`, fingerprinting it on the way."""
        media_type, options = parse_options_header(headers.get("content-type", ""))
        boundary = options.get(b"boundary") if media_type == b"multipart/form-data" else None
        fingerprint = Fingerprint(scope["method"], scope["path"], scope["query_string"], boundary)
        limit = upload_body_limit(self.ctx.settings.max_upload_bytes)
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                raise InvalidInput("the client closed the request before sending its body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"the request body exceeds {limit} bytes", {"limit": limit})
            fingerprint.update(chunk)
            body.write(chunk)
            more = message.get("more_body", False)
        body.seek(0)
        return fingerprint.hexdigest()

    async def _run(self, scope: Scope, body: IO[bytes], claimed: Claim) -> StoredResponse:
        """Run the request; store its response in its own transaction, or give the key back."""
        transaction = request_transaction(scope)
        transaction.held = True  # the response is stored in it, after the endpoint
        captured = _Captured()
        try:
            await self.app(scope, _replay(body), captured.send)
        except BaseException:
            await run_in_threadpool(_abandon, self.ctx, transaction, claimed)
            raise
        response = captured.response()
        if response.status < 400:
            await run_in_threadpool(_complete, self.ctx, transaction, claimed, response)
        elif response.status >= 500:
            await run_in_threadpool(_abandon, self.ctx, transaction, claimed)
        else:
            # The refusal changed nothing: end the request's transaction (and its lock)
            # before storing the refusal in a transaction of its own.
            await run_in_threadpool(transaction.finish, ok=False)
            await run_in_threadpool(
                service.record_refusal, self.ctx.engine, claimed, response, self.ctx.now()
            )
        return response


def _complete(
    ctx: AppContext, transaction: RequestTransaction, claimed: Claim, response: StoredResponse
) -> None:
    """Store the response with the change; `Transactions` commits both together."""
    if not service.complete(transaction.session, claimed, response, ctx.now()):
        transaction.finish(ok=False)
        raise IdempotencyKeyInUse(
            "this attempt took too long and a retry took its Idempotency-Key", 1
        )


def _abandon(ctx: AppContext, transaction: RequestTransaction, claimed: Claim) -> None:
    """Nothing of this attempt commits; the key is free for a retry."""
    transaction.finish(ok=False)
    service.release(ctx.engine, claimed)


class _Captured:
    """Collects the response the app sends instead of passing it on."""

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[str, str]] = []
        self.body = bytearray()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = [
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"]
            ]
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    def response(self) -> StoredResponse:
        return StoredResponse(self.status, self.headers, bytes(self.body))


def _replay(body: IO[bytes]) -> Receive:
    async def receive() -> Message:
        chunk = body.read(CHUNK)
        return {"type": "http.request", "body": chunk, "more_body": len(chunk) == CHUNK}

    return receive


async def _send_stored(send: Send, response: StoredResponse, *, replayed: bool) -> None:
    headers = [
        (k.encode("latin-1"), v.encode("latin-1"))
        for k, v in response.headers
        if k.lower() != "content-length"
    ]
    headers.append((b"content-length", str(len(response.body)).encode()))
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
