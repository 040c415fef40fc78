"""``GET /v1/changes``: the change feed as NDJSON, for partners and peer instances catching up.

``?after=CURSOR&limit=N&kinds=k1,k2&workingGroups=slug1,slug2&include=object&count=true``
with a bearer token carrying ``sync:read`` (or ``federation``: a peer, which sees only what
may cross federation). The lines are :mod:`alliance.sync.feed`'s; the last one is
``{"end": true, "cursor", "hasMore"}`` (``{"count": N}`` alone with ``count=true``). Bad
input is a 400 naming each problem, before anything is streamed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from alliance.auth.principal import Principal
from alliance.auth.route_access import RouteAccess, declare
from alliance.errors import InvalidInput
from alliance.federation.export import loop_guard
from alliance.sharing.policy import FEDERATION_SCOPE
from alliance.sharing.service import load_viewer
from alliance.sync import feed

SYNC_SCOPE = "sync:read"
CHANGE_FEED = RouteAccess(f"a bearer token with the {SYNC_SCOPE} or {FEDERATION_SCOPE} scope")
MEDIA_TYPE = "application/x-ndjson"


def may_read_feed(principal: Principal | None) -> bool:
    return principal is not None and (
        principal.has_scope(SYNC_SCOPE) or principal.has_scope(FEDERATION_SCOPE)
    )


def _bad_request(exc: InvalidInput) -> HTTPException:
    return HTTPException(
        status_code=400,
        detail={
            "code": exc.code,
            "message": exc.message,
            "fields": [
                {"path": list(p.path), "code": p.code, "message": p.message} for p in exc.problems
            ],
        },
    )


def sync_router() -> APIRouter:
    router = APIRouter()

    @router.get("/v1/changes", include_in_schema=False, dependencies=declare(CHANGE_FEED))
    async def changes(request: Request) -> StreamingResponse:
        from alliance.app import authenticate

        principal = await authenticate(request)
        if principal is None:
            raise HTTPException(status_code=401, detail="authentication required")
        if not may_read_feed(principal):
            raise HTTPException(
                status_code=403, detail=f"requires the {SYNC_SCOPE!r} or 'federation' scope"
            )
        sessions = request.app.state.sessions
        try:
            query = feed.parse_query(request.query_params)
            async with sessions() as session:
                viewer = await load_viewer(session, principal)
                # A peer instance never gets its own objects back (federation's hook).
                guard = await loop_guard(session, principal)
                group_ids = await feed.working_group_ids(session, query.working_groups)
                if query.count:
                    n = await feed.count_changes(
                        session,
                        viewer,
                        query,
                        group_ids,
                        left_out=guard.left_out() if guard is not None else None,
                    )
                    return StreamingResponse(iter([feed.count_line(n)]), media_type=MEDIA_TYPE)
        except InvalidInput as exc:
            raise _bad_request(exc) from exc

        async def body() -> AsyncIterator[bytes]:
            async with sessions() as session:
                chunks = feed.feed_chunks(session, viewer, query, group_ids)
                if guard is not None:
                    chunks = guard.filter(sessions, chunks)
                async for chunk in chunks:
                    yield chunk

        return StreamingResponse(
            body(), media_type=MEDIA_TYPE, headers={"Cache-Control": "no-store"}
        )

    return router
