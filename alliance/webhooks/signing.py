"""Signing webhook deliveries: pure functions, no I/O.

A delivery carries ``X-Alliance-Timestamp: <unix seconds>`` and ``X-Alliance-Signature:
v1=<hex HMAC-SHA256(secret, f"{timestamp}.".encode() + body)>``. Signing the timestamp
with the body lets a receiver refuse a captured request replayed later: it checks the
signature and that the timestamp is within its replay window. :func:`verify` is the
receiver's side, written with the standard library only, and is the snippet the README
gives (a test runs the README's copy).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

TIMESTAMP_HEADER = "X-Alliance-Timestamp"
SIGNATURE_HEADER = "X-Alliance-Signature"
SCHEME = "v1"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}."`` followed by the body, keyed by the secret."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The two headers a delivery of ``body`` carries, signed now (or at ``timestamp``)."""
    moment = int(time.time()) if timestamp is None else timestamp
    return {
        TIMESTAMP_HEADER: str(moment),
        SIGNATURE_HEADER: f"{SCHEME}={signature(secret, moment, body)}",
    }


# --- the receiver's side (copied verbatim into the README) ---------------------------------------


def verify(
    secret: str,
    body: bytes,
    timestamp_header: str | None,
    signature_header: str | None,
    *,
    tolerance_seconds: int = 300,
    now: float | None = None,
) -> bool:
    """True if an Alliance webhook request is authentic and fresh.

    ``body`` is the raw request body (before any JSON parsing); the headers are
    X-Alliance-Timestamp and X-Alliance-Signature as received.
    """
    if not timestamp_header or not signature_header or not timestamp_header.isdigit():
        return False
    timestamp = int(timestamp_header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False  # outside the replay window
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    offered = [
        part.strip()[3:] for part in signature_header.split(",") if part.strip().startswith("v1=")
    ]
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)
