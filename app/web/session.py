"""Signing in to the dashboard: the token is kept in an HttpOnly, SameSite=Strict cookie.

The page's own reads (board fragments, the SSE feed) then carry the cookie instead of a
header, which an `EventSource` cannot send. `CookieAuth` turns the cookie into the usual
`Authorization: Bearer` header, so every endpoint authenticates one way, with its checks
and rate limits. It does so only for safe methods (GET, HEAD): a cookie never authorises a
change, so a cross-site form can never act in a signed-in user's name. The token never
appears in a URL (sign-in is a POST) nor in the access log (which logs no headers).
"""

from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE = "admission_token"
LANG_COOKIE = "admission_lang"
SAFE_METHODS = frozenset({"GET", "HEAD"})
MAX_AGE_SECONDS = 12 * 3600


def cookie_token(cookie_header: str) -> str | None:
    for part in cookie_header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None


class CookieAuth:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in SAFE_METHODS:
            headers: list[tuple[bytes, bytes]] = scope["headers"]
            names = {k for k, _ in headers}
            if b"authorization" not in names and b"cookie" in names:
                cookies = b"; ".join(v for k, v in headers if k == b"cookie").decode("latin-1")
                token = cookie_token(cookies)
                if token:
                    bearer = (b"authorization", b"Bearer " + token.encode("latin-1"))
                    scope = {**scope, "headers": [*headers, bearer]}
        await self.app(scope, receive, send)
