"""Passwords: Argon2id hashes (argon2-cffi's defaults, RFC 9106's second recommended profile),
a minimum length, and one-time passwords an operator hands over."""

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.core.errors import InvalidInput

MIN_LENGTH = 12
# Argon2 hashes whatever it is given; a cap keeps a huge "password" from costing memory.
MAX_LENGTH = 256
# Letters and digits that cannot be mistaken for one another when read aloud or copied.
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"

_hasher = PasswordHasher()
# Verified against when the account does not exist, so that both answers take as long.
_DUMMY_HASH = _hasher.hash("a password no account has")


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            f"a password has at least {MIN_LENGTH} characters", {"password": "too short"}
        )
    if len(password) > MAX_LENGTH:
        raise InvalidInput(
            f"a password has at most {MAX_LENGTH} characters", {"password": "too long"}
        )


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored` (None: no account, or no password set)."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


def one_time_password() -> str:
    """16 characters from a 54-letter alphabet: about 92 bits."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(16))
