"""``POST /v1/federation/hello``: a peer instance, holding one of our federation
credentials, says which instance it is and learns which one we are."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from alliance.auth.route_access import RouteAccess, declare
from alliance.db import unit_of_work
from alliance.errors import Conflict, DomainError, Forbidden, InvalidInput
from alliance.federation import service
from alliance.sharing.policy import FEDERATION_SCOPE

HANDSHAKE = RouteAccess(f"a bearer token with the {FEDERATION_SCOPE} scope (a peer instance)")
MAX_BODY = 4096


def _status(exc: DomainError) -> int:
    if isinstance(exc, InvalidInput):
        return 400
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, Conflict):
        return 409
    return 404


def federation_router() -> APIRouter:
    router = APIRouter()

    @router.post("/v1/federation/hello", include_in_schema=False, dependencies=declare(HANDSHAKE))
    async def hello(request: Request) -> JSONResponse:
        from alliance.app import authenticate

        principal = await authenticate(request)
        if principal is None:
            raise HTTPException(status_code=401, detail="authentication required")
        raw = await request.body()
        body: Any = None
        if len(raw) <= MAX_BODY:
            try:
                body = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                body = None
        if not isinstance(body, dict):
            raise HTTPException(status_code=400, detail='send {"instanceId": "<your instance id>"}')
        try:
            async with unit_of_work(request.app.state.sessions) as session:
                mine = await service.record_handshake(session, principal, body.get("instanceId"))
        except DomainError as exc:
            raise HTTPException(status_code=_status(exc), detail=exc.message) from exc
        return JSONResponse({"instanceId": mine})

    return router
