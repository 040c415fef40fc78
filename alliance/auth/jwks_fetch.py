"""Fetching a member's JWKS from its URL without opening a door into our own network.

The host is resolved once, every address it resolves to must be public (unless the
operator allows private ones, e.g. for an identity provider on the same LAN), and
the connection goes to the address that was checked, so a DNS answer that changes
between check and connect cannot redirect us. No redirects are followed, the
response is size-capped and the whole exchange is under a timeout.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from alliance import outbound
from alliance.outbound import OutboundError, OutboundPolicy, Resolver

SETTING = "ALLIANCE_OAUTH_ALLOW_PRIVATE_JWKS_HOSTS"


class JwksFetchError(Exception):
    """The JWKS could not be fetched or is not acceptable; the message says why."""


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    allow_private_hosts: bool = False
    timeout_seconds: float = 5.0
    max_bytes: int = 64 * 1024


def address_refusal(address: str, *, allow_private_hosts: bool) -> str | None:
    """Why this address may not be fetched from, or None when it may."""
    return outbound.address_refusal(
        address, allow_private_hosts=allow_private_hosts, setting=SETTING
    )


def fetch_jwks(
    url: str, policy: FetchPolicy, *, resolve: Resolver = socket.getaddrinfo
) -> dict[str, Any]:
    """The JWKS document at ``url`` (a dict with a ``keys`` list that joserfc can import)."""
    call_policy = OutboundPolicy(
        allow_private_hosts=policy.allow_private_hosts,
        timeout_seconds=policy.timeout_seconds,
        max_response_bytes=policy.max_bytes,
    )
    try:
        response = outbound.request(
            "GET",
            url,
            policy=call_policy,
            headers={"Accept": "application/json"},
            resolve=resolve,
            setting=SETTING,
        )
    except OutboundError as exc:
        raise JwksFetchError(f"fetching the JWKS: {exc}") from exc
    if response.status_code != 200:
        raise JwksFetchError(f"the JWKS URL answered HTTP {response.status_code}")
    try:
        document = json.loads(response.body)
    except ValueError as exc:
        raise JwksFetchError("the JWKS is not JSON") from exc
    return validated_jwks(document)


def validated_jwks(document: Any) -> dict[str, Any]:
    """A JWKS of public keys only, or JwksFetchError."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksFetchError("a JWKS must be a JSON object with a 'keys' list")
    if not document["keys"]:
        raise JwksFetchError("the JWKS has no keys")
    for key in document["keys"]:
        if not isinstance(key, dict) or "kty" not in key:
            raise JwksFetchError("every JWKS entry must be a JSON web key with 'kty'")
        if any(private in key for private in ("d", "p", "q", "k")):
            raise JwksFetchError("the JWKS must hold public keys only")
    try:
        KeySet.import_key_set(document)
    except (JoseError, ValueError, TypeError) as exc:
        raise JwksFetchError(f"the JWKS cannot be read: {exc}") from exc
    return {"keys": document["keys"]}
