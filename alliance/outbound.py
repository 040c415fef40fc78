"""Calling out to URLs that members and operators configure, without opening a door into
our own network.

Webhook receivers, peer instances and members' JWKS endpoints are URLs someone else typed
in. Every call to one goes through here: the host is resolved once, every address it
resolves to must be public (unless the operator allows private ones), and the connection
goes to the address that was checked, so a DNS answer that changes between check and
connect cannot redirect us. No redirect is ever followed (a 3xx comes back as the
response), the whole exchange is under a timeout and the body is size-capped.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

if TYPE_CHECKING:
    from alliance.config import Settings

Resolver = Callable[..., list[tuple[Any, ...]]]

ALLOW_PRIVATE_SETTING = "ALLIANCE_OUTBOUND_ALLOW_PRIVATE_HOSTS"


class OutboundError(Exception):
    """The call could not be made or failed; the message says why.

    ``retryable`` is False when trying again cannot help (a refused destination, a bad
    URL, a body over the size cap) and True for what may pass (connection refused,
    timeouts, HTTP 5xx and 429).
    """

    def __init__(self, message: str, *, retryable: bool, status_code: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.status_code = status_code


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    allow_private_hosts: bool = False
    timeout_seconds: float = 10.0
    # None lifts the cap (long streamed feeds, which bound themselves by page size).
    max_response_bytes: int | None = 1024 * 1024


@dataclass(frozen=True, slots=True)
class OutboundResponse:
    status_code: int
    headers: httpx.Headers
    body: bytes


def policy_from_settings(settings: Settings) -> OutboundPolicy:
    section = settings.outbound
    return OutboundPolicy(
        allow_private_hosts=section.allow_private_hosts,
        timeout_seconds=section.timeout_seconds,
        max_response_bytes=section.max_response_bytes,
    )


def address_refusal(
    address: str, *, allow_private_hosts: bool, setting: str = ALLOW_PRIVATE_SETTING
) -> str | None:
    """Why this address may not be called, or None when it may."""
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
            return f"{address} is a {label} address (set {setting}=true to allow)"
    if not ip.is_global:
        return f"{address} is not a public address"
    return None


def checked_address(
    host: str,
    port: int,
    *,
    allow_private_hosts: bool,
    resolve: Resolver = socket.getaddrinfo,
    setting: str = ALLOW_PRIVATE_SETTING,
) -> str:
    """The address to connect to: ``host`` resolved once, every answer checked."""
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise OutboundError(f"cannot resolve {host!r}: {exc}", retryable=True) from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise OutboundError(f"{host!r} resolves to no address", retryable=True)
    for address in addresses:
        refusal = address_refusal(address, allow_private_hosts=allow_private_hosts, setting=setting)
        if refusal:
            raise OutboundError(f"refusing to connect to {host!r}: {refusal}", retryable=False)
    return addresses[0]


@dataclass(frozen=True, slots=True)
class Target:
    """A URL rewritten to the checked address, with what the request must say to the host."""

    url: str
    headers: dict[str, str]
    extensions: dict[str, Any]


def pinned_target(
    url: str,
    policy: OutboundPolicy,
    *,
    resolve: Resolver = socket.getaddrinfo,
    setting: str = ALLOW_PRIVATE_SETTING,
) -> Target:
    """Validate ``url`` and pin it to an address that passed the check.

    Plain http is accepted only where private hosts are allowed (a test or a LAN); in
    production every destination is https.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise OutboundError(f"{url!r} is not an https:// URL", retryable=False)
    if parts.scheme == "http" and not policy.allow_private_hosts:
        raise OutboundError("the URL must use https://", retryable=False)
    if parts.username or parts.password:
        raise OutboundError("the URL must not carry credentials", retryable=False)
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = checked_address(
        host, port, allow_private_hosts=policy.allow_private_hosts, resolve=resolve, setting=setting
    )
    literal = f"[{address}]" if ":" in address else address
    return Target(
        url=parts._replace(netloc=f"{literal}:{port}").geturl(),
        headers={"Host": parts.netloc.rsplit("@", 1)[-1]},
        extensions={"sni_hostname": host} if parts.scheme == "https" else {},
    )


def _too_large(policy: OutboundPolicy) -> OutboundError:
    return OutboundError(
        f"the response is larger than {policy.max_response_bytes} bytes", retryable=False
    )


def _transport_error(exc: httpx.HTTPError) -> OutboundError:
    return OutboundError(f"the call failed: {exc.__class__.__name__}", retryable=True)


@cache
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle costs tens of milliseconds; one context serves every call.
    return ssl.create_default_context()


def _client(policy: OutboundPolicy) -> httpx.Client:
    return httpx.Client(
        timeout=policy.timeout_seconds,
        follow_redirects=False,
        trust_env=False,
        verify=_tls_context(),
    )


def request(
    method: str,
    url: str,
    *,
    policy: OutboundPolicy,
    headers: Mapping[str, str] | None = None,
    content: bytes | None = None,
    resolve: Resolver = socket.getaddrinfo,
    setting: str = ALLOW_PRIVATE_SETTING,
) -> OutboundResponse:
    """One request, its whole (size-capped) body read. Any status comes back as is."""
    target = pinned_target(url, policy, resolve=resolve, setting=setting)
    try:
        with (
            _client(policy) as client,
            client.stream(
                method,
                target.url,
                headers={**(headers or {}), **target.headers},
                content=content,
                extensions=target.extensions,
            ) as response,
        ):
            cap = policy.max_response_bytes
            declared = response.headers.get("content-length")
            if cap is not None and declared and declared.isdigit() and int(declared) > cap:
                raise _too_large(policy)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if cap is not None and len(body) > cap:
                    raise _too_large(policy)
            return OutboundResponse(response.status_code, response.headers, bytes(body))
    except httpx.HTTPError as exc:
        raise _transport_error(exc) from exc


@contextmanager
def stream_lines(
    method: str,
    url: str,
    *,
    policy: OutboundPolicy,
    headers: Mapping[str, str] | None = None,
    content: bytes | None = None,
    resolve: Resolver = socket.getaddrinfo,
) -> Iterator[Iterator[bytes]]:
    """The response body as lines (for NDJSON feeds), the size cap over the whole stream.

    A non-2xx answer raises OutboundError with the status (retryable for 5xx and 429).
    """
    target = pinned_target(url, policy, resolve=resolve)
    try:
        with (
            _client(policy) as client,
            client.stream(
                method,
                target.url,
                headers={**(headers or {}), **target.headers},
                content=content,
                extensions=target.extensions,
            ) as response,
        ):
            if not 200 <= response.status_code < 300:
                status = response.status_code
                raise OutboundError(
                    f"{urlsplit(url).netloc} answered HTTP {status}",
                    retryable=status >= 500 or status == 429,
                    status_code=status,
                )
            yield _capped_lines(response, policy)
    except httpx.HTTPError as exc:
        raise _transport_error(exc) from exc


def _capped_lines(response: httpx.Response, policy: OutboundPolicy) -> Iterator[bytes]:
    cap = policy.max_response_bytes
    seen = 0
    pending = b""
    for chunk in response.iter_bytes():
        seen += len(chunk)
        if cap is not None and seen > cap:
            raise _too_large(policy)
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.strip():
                yield line
    if pending.strip():
        yield pending
