"""Webhook signatures in the Standard Webhooks scheme (https://www.standardwebhooks.com).

Each delivery carries three headers:

- `webhook-id`: the event id, the same on every retry (receivers de-duplicate on it);
- `webhook-timestamp`: when this attempt was signed, in Unix seconds;
- `webhook-signature`: `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, where the
  key is the base64 part of the subscription's `whsec_…` secret, decoded.

Any Standard Webhooks library verifies these; `verify` below does the same without one.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping

from app.core.errors import InvalidSignature

SECRET_PREFIX = "whsec_"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
# How far a receiver should let a timestamp stray from its own clock (replay window).
DEFAULT_TOLERANCE_SECONDS = 300


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSignature("the secret is not a whsec_ base64 key") from None


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for one attempt."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three signature headers of one attempt."""
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, msg_id, timestamp, body),
    }


def verify(
    secret: str,
    received: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> str:
    """Check a received delivery; return its `webhook-id`, or raise `InvalidSignature`.

    `received` maps header names to values (names in lower case, as HTTP/2 and most
    frameworks give them); `body` is the raw request body, before any JSON parsing; `now` is
    the receiver's clock in Unix seconds. Several space-separated signatures (a secret being
    rotated) are accepted if any one matches.
    """
    msg_id = received.get(ID_HEADER)
    stamp = received.get(TIMESTAMP_HEADER)
    offered = received.get(SIGNATURE_HEADER)
    if not msg_id or not stamp or not offered:
        raise InvalidSignature("missing webhook-id, webhook-timestamp or webhook-signature")
    if not stamp.isascii() or not stamp.isdigit():
        raise InvalidSignature("webhook-timestamp is not a number of seconds")
    timestamp = int(stamp)
    if abs(now - timestamp) > tolerance:
        raise InvalidSignature("webhook-timestamp is outside the tolerance")
    expected = signature(secret, msg_id, timestamp, body)
    for candidate in offered.split():
        if hmac.compare_digest(candidate.encode(), expected.encode()):
            return msg_id
    raise InvalidSignature("no signature matches")
