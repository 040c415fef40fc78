"""Request id, actor and metrics for every HTTP request (a plain ASGI middleware)."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alliance.observability.context import begin_request, end_request
from alliance.observability.metrics import Metrics

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
logger = logging.getLogger("alliance.http")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or ()).get(b"x-request-id", b"").decode("latin-1")
        state, token = begin_request(incoming if _REQUEST_ID_RE.match(incoming) else None)
        status = 500
        responded = False
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status = message["status"]
                responded = True
                headers: list[Any] = list(message.get("headers", []))
                headers.append((b"x-request-id", state.request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Handled here rather than by an app exception handler: Starlette runs those
            # outside every middleware, once this request's id and actor are gone.
            if responded:
                raise
            logger.exception("unexpected error")
            await _internal_error(send_with_id, state.request_id)
        finally:
            operation = state.operation or _route_label(scope)
            self.metrics.observe_request(operation, status, time.perf_counter() - started)
            end_request(token)


async def _internal_error(send: Send, request_id: str) -> None:
    body = json.dumps({"error": "internal_error", "request_id": request_id}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _route_label(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return f"{scope.get('method', '')} {path}" if path else "unmatched"
