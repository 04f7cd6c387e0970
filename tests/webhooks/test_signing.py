"""Delivery signatures: the Standard Webhooks scheme, checked against its published example."""

import base64

import pytest

from app.webhooks.signing import (
    InvalidSignature,
    headers,
    new_secret,
    signature,
    verify,
)

# The example of the Standard Webhooks specification and its reference libraries.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

BODY = b'{"id":42,"type":"case.created","data":{}}'


def signed(secret: str, timestamp: int = 1_800_000_000, body: bytes = BODY) -> dict[str, str]:
    return headers(secret, "42", timestamp, body)


class TestTheScheme:
    def test_the_specification_s_example_signs_and_verifies_as_published(self) -> None:
        assert signature(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
        received = {
            "webhook-id": SPEC_ID,
            "webhook-timestamp": str(SPEC_TIMESTAMP),
            "webhook-signature": SPEC_SIGNATURE,
        }
        assert verify(SPEC_SECRET, received, SPEC_BODY, now=SPEC_TIMESTAMP) == SPEC_ID

    def test_headers_carry_the_id_the_timestamp_and_the_signature(self) -> None:
        secret = new_secret()
        sent = signed(secret)
        assert sent == {
            "webhook-id": "42",
            "webhook-timestamp": "1800000000",
            "webhook-signature": signature(secret, "42", 1_800_000_000, BODY),
        }

    def test_secrets_are_whsec_and_32_random_bytes(self) -> None:
        secrets = {new_secret() for _ in range(20)}
        assert len(secrets) == 20
        for secret in secrets:
            assert secret.startswith("whsec_")
            assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


class TestVerify:
    def test_a_genuine_delivery_verifies(self) -> None:
        secret = new_secret()
        assert verify(secret, signed(secret), BODY, now=1_800_000_010) == "42"

    @pytest.mark.parametrize(
        "change",
        ["body", "id", "timestamp", "secret", "signature"],
    )
    def test_any_change_is_detected(self, change: str) -> None:
        secret = new_secret()
        received = signed(secret)
        body = BODY
        if change == "body":
            body = BODY.replace(b"42", b"43")
        elif change == "id":
            received["webhook-id"] = "43"
        elif change == "timestamp":
            received["webhook-timestamp"] = "1800000001"
        elif change == "secret":
            secret = new_secret()
        else:
            received["webhook-signature"] = "v1," + base64.b64encode(b"x" * 32).decode()
        with pytest.raises(InvalidSignature):
            verify(secret, received, body, now=1_800_000_000)

    def test_an_old_or_future_timestamp_is_refused(self) -> None:
        secret = new_secret()
        with pytest.raises(InvalidSignature, match="tolerance"):
            verify(secret, signed(secret), BODY, now=1_800_000_000 + 301)
        with pytest.raises(InvalidSignature, match="tolerance"):
            verify(secret, signed(secret), BODY, now=1_800_000_000 - 301)
        assert verify(secret, signed(secret), BODY, now=1_800_000_900, tolerance=1000) == "42"

    def test_one_matching_signature_among_several_is_enough(self) -> None:
        old, new = new_secret(), new_secret()
        received = signed(new)
        received["webhook-signature"] = (
            f"{signature(old, '42', 1_800_000_000, BODY)} {received['webhook-signature']}"
        )
        assert verify(new, received, BODY, now=1_800_000_000) == "42"
        assert verify(old, received, BODY, now=1_800_000_000) == "42"

    @pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
    def test_a_missing_header_is_refused(self, missing: str) -> None:
        secret = new_secret()
        received = signed(secret)
        del received[missing]
        with pytest.raises(InvalidSignature, match="missing"):
            verify(secret, received, BODY, now=1_800_000_000)

    def test_a_timestamp_that_is_not_a_number_is_refused(self) -> None:
        secret = new_secret()
        received = {**signed(secret), "webhook-timestamp": "1.8e9"}
        with pytest.raises(InvalidSignature, match="number"):
            verify(secret, received, BODY, now=1_800_000_000)
