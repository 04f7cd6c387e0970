"""Bearer tokens: random, shown once, stored only as a SHA-256 digest."""

import hashlib
import secrets

TOKEN_PREFIX = "qa_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # 256 random bits: a fast hash is enough, there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def display_prefix(token: str) -> str:
    return token[:10]
