"""Making and checking secrets: passwords, client secrets, codes and refresh tokens.

People choose passwords, so theirs get argon2 (slow on purpose). Client secrets,
authorization codes and refresh tokens are 256 random bits made here: a fast salted
SHA-256 is as strong for them, and keeps the token endpoint cheap under load.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_passwords = PasswordHasher()
# Verifying against this keeps the time of "no such person" close to "wrong password".
_DUMMY_HASH = _passwords.hash("not a password anyone has")

MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    try:
        return _passwords.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_secret() -> str:
    """256 random bits, URL-safe: client secrets, authorization codes, refresh tokens."""
    return secrets.token_urlsafe(32)


def new_client_id() -> str:
    return "cl_" + secrets.token_urlsafe(16)


def hash_client_secret(secret: str) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()
    return f"sha256${salt}${digest}"


def check_client_secret(stored: str | None, secret: str) -> bool:
    if not stored or stored.count("$") != 2:
        return False
    scheme, salt, digest = stored.split("$")
    if scheme != "sha256":
        return False
    candidate = hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()
    return hmac.compare_digest(candidate, digest)


def token_digest(value: str) -> str:
    """The lookup key of a code or refresh token (unsalted: it must be found by its value)."""
    return hashlib.sha256(value.encode()).hexdigest()
