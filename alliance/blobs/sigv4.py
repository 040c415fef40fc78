"""AWS Signature Version 4 for S3 requests (header signing, payload hash sent), pure.

Written from AWS's "Signature Calculations for the Authorization Header" and checked against
the worked examples that document publishes (tests/alliance/blobs/test_sigv4.py).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import quote

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def canonical_uri(path: str) -> str:
    # S3 encodes the path once, keeping '/', and every character outside RFC 3986's unreserved.
    return quote(path, safe="/~")


def canonical_query(query: Mapping[str, str]) -> str:
    return "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(query.items()))


def sign(
    *,
    method: str,
    host: str,
    path: str,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    payload_sha256: str,
    access_key_id: str,
    secret_access_key: str,
    region: str,
    moment: datetime,
    service: str = "s3",
) -> dict[str, str]:
    """The headers to send: the given ones plus ``host``, ``x-amz-date``,
    ``x-amz-content-sha256`` and ``Authorization``. ``moment`` must be in UTC."""
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    signed: dict[str, str] = {k.lower(): " ".join(v.split()) for k, v in (headers or {}).items()}
    signed["host"] = host
    signed["x-amz-date"] = amz_date
    signed["x-amz-content-sha256"] = payload_sha256
    names = sorted(signed)
    canonical_request = "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(query or {}),
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            payload_sha256,
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            amz_date,
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = _hmac(f"AWS4{secret_access_key}".encode(), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    out = {k: v for k, v in (headers or {}).items()}
    out["host"] = host
    out["x-amz-date"] = amz_date
    out["x-amz-content-sha256"] = payload_sha256
    out["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return out
