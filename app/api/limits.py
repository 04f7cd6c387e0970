"""A cap on the size of request bodies that are not uploads (JSON and anything else).

Uploads (`multipart/form-data`) are streamed to disk by their endpoint under their own,
much larger limit; every other body is small by nature, so it is read here up to the cap
and refused with 413 beyond it, before any endpoint or parser sees it.
"""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

STREAMED_TYPES = (b"multipart/form-data",)
# Room for the multipart framing and the form's other fields around an uploaded file.
MULTIPART_ENVELOPE_BYTES = 64 * 1024


def upload_body_limit(max_upload_bytes: int) -> int:
    """The largest multipart body that can carry a file of the largest allowed size."""
    return max_upload_bytes + MULTIPART_ENVELOPE_BYTES


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if content_type in STREAMED_TYPES:
            await self.app(scope, receive, send)
            return
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away; let the app see it.
                await self.app(scope, _replay_then(message, receive), send)
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._refuse(send)
                return
            more = message.get("more_body", False)
        await self.app(scope, _replay(bytes(body), receive), send)

    async def _refuse(self, send: Send) -> None:
        payload = json.dumps(
            {
                "error": {
                    "code": "too_large",
                    "message": f"the request body exceeds {self.max_bytes} bytes",
                    "details": {"limit": self.max_bytes},
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _replay_then(first: Message, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return first
        return await receive()

    return replay
