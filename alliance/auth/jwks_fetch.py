"""Fetching a member's JWKS from its URL without opening a door into our own network.

The host is resolved once, every address it resolves to must be public (unless the
operator allows private ones, e.g. for an identity provider on the same LAN), and
the connection goes to the address that was checked, so a DNS answer that changes
between check and connect cannot redirect us. No redirects are followed, the
response is size-capped and the whole exchange is under a timeout.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

Resolver = Callable[..., list[tuple[Any, ...]]]


class JwksFetchError(Exception):
    """The JWKS could not be fetched or is not acceptable; the message says why."""


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    allow_private_hosts: bool = False
    timeout_seconds: float = 5.0
    max_bytes: int = 64 * 1024


def address_refusal(address: str, *, allow_private_hosts: bool) -> str | None:
    """Why this address may not be fetched from, or None when it may."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_multicast or ip.is_unspecified:
        return f"{address} is not a unicast address"
    if allow_private_hosts:
        return None
    for label, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return f"{address} is a {label} address (set ALLIANCE_OAUTH_ALLOW_PRIVATE_JWKS_HOSTS=true to allow)"
    if not ip.is_global:
        return f"{address} is not a public address"
    return None


def _checked_address(host: str, port: int, policy: FetchPolicy, resolve: Resolver) -> str:
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise JwksFetchError(f"cannot resolve {host!r}: {exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise JwksFetchError(f"{host!r} resolves to no address")
    for address in addresses:
        refusal = address_refusal(address, allow_private_hosts=policy.allow_private_hosts)
        if refusal:
            raise JwksFetchError(f"refusing to fetch from {host!r}: {refusal}")
    return addresses[0]


def fetch_jwks(
    url: str, policy: FetchPolicy, *, resolve: Resolver = socket.getaddrinfo
) -> dict[str, Any]:
    """The JWKS document at ``url`` (a dict with a ``keys`` list that joserfc can import)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise JwksFetchError("the JWKS URL must be an https:// URL")
    if parts.scheme == "http" and not policy.allow_private_hosts:
        raise JwksFetchError("the JWKS URL must use https://")
    if parts.username or parts.password:
        raise JwksFetchError("the JWKS URL must not carry credentials")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _checked_address(host, port, policy, resolve)
    literal = f"[{address}]" if ":" in address else address
    target = parts._replace(netloc=f"{literal}:{port}").geturl()
    headers = {"Host": parts.netloc.rsplit("@", 1)[-1], "Accept": "application/json"}
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    try:
        with (
            httpx.Client(
                timeout=policy.timeout_seconds, follow_redirects=False, trust_env=False
            ) as client,
            client.stream("GET", target, headers=headers, extensions=extensions) as response,
        ):
            if response.status_code != 200:
                raise JwksFetchError(f"the JWKS URL answered HTTP {response.status_code}")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > policy.max_bytes:
                raise JwksFetchError(f"the JWKS is larger than {policy.max_bytes} bytes")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > policy.max_bytes:
                    raise JwksFetchError(f"the JWKS is larger than {policy.max_bytes} bytes")
    except httpx.HTTPError as exc:
        raise JwksFetchError(f"fetching the JWKS failed: {exc.__class__.__name__}") from exc
    try:
        document = json.loads(bytes(body))
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
