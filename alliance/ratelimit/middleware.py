"""Rate limiting at the HTTP edge: 429 with ``Retry-After`` before any work is done.

A plain ASGI middleware, so routes added later under the limited prefixes (``/v1``,
``/oauth``) are covered without declaring anything; health, readiness and metrics are not
limited. The caller is the token's client when a valid bearer token is sent, otherwise the
client's IP address (behind a proxy, run uvicorn with ``--forwarded-allow-ips`` so that is
the caller's address, not the proxy's). An invalid token is limited by IP address and then
refused with 401 by the route.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from redis.exceptions import RedisError
from starlette.types import ASGIApp, Receive, Scope, Send

from alliance.audit import service as audit
from alliance.auth.bearer import principal_from_header
from alliance.auth.principal import Principal
from alliance.auth.tokens import InvalidToken
from alliance.observability.context import current_request_id
from alliance.ratelimit.bucket import Decision, Limit
from alliance.ratelimit.limiter import DenialThrottle, RateLimiter, Requester

logger = logging.getLogger("alliance.ratelimit")

LIMITED_PREFIXES = ("/graphql", "/v1", "/oauth")
BACKEND_WARNING_SECONDS = 60.0


def is_limited(path: str, prefixes: tuple[str, ...] = LIMITED_PREFIXES) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


class RateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        limiter: RateLimiter,
        *,
        prefixes: tuple[str, ...] = LIMITED_PREFIXES,
        throttle: DenialThrottle | None = None,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.prefixes = prefixes
        self.throttle = throttle or DenialThrottle()
        self._last_backend_warning = float("-inf")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.limiter.enabled
            or not is_limited(scope.get("path", ""), self.prefixes)
        ):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        principal = _principal(state, scope)
        ip = (scope.get("client") or ("unknown", 0))[0]
        requester = Requester.client(principal.client_id) if principal else Requester.address(ip)
        try:
            decision, limit = await self.limiter.take(requester)
        except (RedisError, OSError):
            # Fail open: an unreachable limiter must not take the API down with it.
            self._warn_backend_down()
            await self.app(scope, receive, send)
            return
        if decision.allowed:
            await self.app(scope, receive, send)
            return
        reason = (
            f"rate limit exceeded for {_describe(requester, ip)}: {limit.requests_per_minute} "
            f"requests a minute with bursts of {limit.burst}; retry in "
            f"{decision.retry_after_seconds} s"
        )
        await self._audit(state, requester, principal, ip, scope, limit, decision)
        await _too_many_requests(send, decision.retry_after_seconds, reason)

    async def _audit(
        self,
        state: Any,
        requester: Requester,
        principal: Principal | None,
        ip: str,
        scope: Scope,
        limit: Limit,
        decision: Decision,
    ) -> None:
        refusals = self.throttle.refused(requester.key)
        if refusals is None:
            return
        who: audit.EntryFields = (
            {
                "actor": principal.actor,
                "organisation_id": principal.organisation_id,
                "person_id": principal.person_id,
                "client_id": principal.client_id,
            }
            if principal
            else {"actor": f"ip:{ip}"}
        )
        try:
            await audit.record_now(
                state.sessions,
                action="rate_limit.exceeded",
                outcome=audit.Outcome.DENIED,
                **who,
                detail={
                    "path": scope.get("path", ""),
                    "ip": ip,
                    "requests_per_minute": limit.requests_per_minute,
                    "burst": limit.burst,
                    "retry_after_seconds": decision.retry_after_seconds,
                    "refusals": refusals,
                },
            )
        except Exception:
            # The 429 goes out whatever happens to the audit write (a flood during a database
            # outage must stay cheap); the failure is logged with the request id.
            logger.exception("could not audit a rate-limit refusal")

    def _warn_backend_down(self) -> None:
        now = time.monotonic()
        if now - self._last_backend_warning >= BACKEND_WARNING_SECONDS:
            self._last_backend_warning = now
            logger.exception("rate-limit store unreachable; requests pass unlimited meanwhile")


def _principal(state: Any, scope: Scope) -> Principal | None:
    header = dict(scope.get("headers") or ()).get(b"authorization")
    if not header:
        return None
    settings = state.settings
    try:
        return principal_from_header(
            state.keys,
            header.decode("latin-1"),
            issuer=settings.base_url,
            audience=settings.token_audience,
        )
    except InvalidToken:
        return None


def _describe(requester: Requester, ip: str) -> str:
    return f"client {requester.client_id!r}" if requester.client_id else f"address {ip}"


async def _too_many_requests(send: Send, retry_after: int, reason: str) -> None:
    body = json.dumps(
        {
            "error": "rate_limited",
            "reason": reason,
            "retry_after": retry_after,
            "request_id": current_request_id(),
        }
    ).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(body)),
        (b"retry-after", b"%d" % retry_after),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
