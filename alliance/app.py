"""The FastAPI application factory: the composition root of the API process.

This module and ``alliance.cli`` are the only ones in ``alliance`` that reach into
``schema``, ``workers`` and ``search``; they do so inside functions, when wiring the
process, so the domain packages never depend on the layers above them.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alliance import health
from alliance.auth.bearer import principal_from_header
from alliance.auth.keys import ReloadingKeyRing
from alliance.auth.revocations import token_revoked
from alliance.auth.route_access import ANONYMOUS, PER_GRAPHQL_FIELD, declare, mark_framework_routes
from alliance.auth.tokens import InvalidToken
from alliance.changelog import service as changelog
from alliance.config import Settings, load_settings
from alliance.db import make_engine, make_sessionmaker, utcnow
from alliance.jobs import SENDER_KEY, JobSender
from alliance.observability.context import Caller, set_caller
from alliance.observability.logging import configure_logging
from alliance.observability.metrics import Metrics
from alliance.observability.middleware import RequestContextMiddleware
from alliance.ratelimit.limiter import RateLimiter
from alliance.ratelimit.middleware import RateLimitMiddleware
from alliance.system import service as system


def create_app(
    settings: Settings | None = None,
    *,
    sessions: async_sessionmaker[AsyncSession] | None = None,
    job_sender: JobSender | None = None,
) -> FastAPI:
    """Build the app. Tests may hand in a sessionmaker (e.g. bound to a rolled-back
    connection) and a job sender; otherwise both are built in the lifespan."""
    from alliance.auth.http import oauth_router
    from alliance.blobs.http import blobs_router
    from alliance.federation.http import federation_router
    from alliance.guides.http import guides_router
    from alliance.listings.counting import CountFlusher, ListingCounts
    from alliance.listings.http import listings_router
    from alliance.portal.http import portal_router
    from alliance.sync.http import sync_router
    from alliance.taxii.http import taxii_router
    from schema.graphql_app import graphql_router
    from search.factory import make_backend
    from search.portal import portal_search
    from search.status import search_status

    settings = settings or load_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log)
        app.state.keys = ReloadingKeyRing(
            pem=settings.signing.key, key_file=settings.signing_key_file
        )
        engine = None
        if sessions is None:
            engine = make_engine(settings.database_url, pool_size=settings.database.pool_size)
            sender = job_sender or _celery_sender(settings, metrics)
            app.state.sessions = make_sessionmaker(engine, **{SENDER_KEY: sender})
        else:
            app.state.sessions = sessions
        app.state.search = make_backend(settings)
        app.state.portal_search = portal_search(app.state.search)
        # Each API process keeps its own listing matcher, fresh from the change log; it follows
        # the log only on an engine of its own (a test's single shared connection cannot be
        # polled beside requests: tests call ``poll_once`` themselves).
        follow_task = await _start_listing_matcher(app, follow=engine is not None)
        if engine is not None:
            # What startup built lives as long as the process: the matcher alone holds several
            # objects per indicator. Kept out of the cyclic collector, whose full passes would
            # otherwise walk them all, stalling requests for seconds at a million indicators.
            gc.freeze()
        # Listing checks are counted in memory and flushed now and then, and at shutdown.
        counting = CountFlusher(
            app.state.listing_counts, app.state.sessions, periodic=engine is not None
        )
        try:
            yield
        finally:
            await counting.close()
            if follow_task is not None:
                follow_task.cancel()
                with suppress(asyncio.CancelledError):
                    await follow_task
            await app.state.search.close()
            await app.state.rate_limiter.aclose()
            if engine is not None:
                await engine.dispose()

    app = FastAPI(
        title="Alliance", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.listing_counts = ListingCounts()
    mark_framework_routes(app)
    # Added first, so it runs inside the request context: a 429 carries a request id and is
    # counted in the metrics. ``app.state.rate_limiter.set_override`` sets per-client limits.
    app.state.rate_limiter = RateLimiter.from_settings(settings.ratelimit)
    app.add_middleware(RateLimitMiddleware, limiter=app.state.rate_limiter)
    # Also answers unexpected errors (a masked 500 carrying the request id).
    app.add_middleware(RequestContextMiddleware, metrics=metrics)

    @app.get("/healthz", include_in_schema=False, dependencies=declare(ANONYMOUS))
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False, dependencies=declare(ANONYMOUS))
    async def readyz(request: Request) -> JSONResponse:
        result = await health.readiness(
            settings, request.app.state.sessions, lambda: search_status(settings)
        )
        body = {"status": "ready" if result.ready else "not_ready", "checks": result.checks}
        return JSONResponse(body, status_code=200 if result.ready else 503)

    @app.get("/metrics", include_in_schema=False, dependencies=declare(ANONYMOUS))
    async def prometheus(request: Request) -> Response:
        async def refresh(m: Metrics) -> None:
            async with request.app.state.sessions() as session:
                m.change_log_head.set(await changelog.head(session))
                beats = await system.heartbeats(session)
            latest = max((b.last_seen for b in beats), default=None)
            m.heartbeat_age.set(-1 if latest is None else (utcnow() - latest).total_seconds())
            m.worker_heartbeats.set(sum(b.beats for b in beats))

        return Response(await metrics.render(refresh), media_type=metrics.content_type)

    @app.get("/.well-known/jwks.json", include_in_schema=False, dependencies=declare(ANONYMOUS))
    async def jwks(request: Request) -> dict[str, Any]:
        return request.app.state.keys.public_jwks()

    app.include_router(
        graphql_router(settings), prefix="/graphql", dependencies=declare(PER_GRAPHQL_FIELD)
    )
    app.include_router(oauth_router())
    app.include_router(listings_router())
    app.include_router(guides_router())
    app.include_router(taxii_router())
    app.include_router(blobs_router())
    app.include_router(sync_router())
    app.include_router(federation_router())
    app.include_router(portal_router())
    return app


async def _start_listing_matcher(app: FastAPI, *, follow: bool) -> asyncio.Task[None] | None:
    from alliance.listings.service import MatcherFollower

    app.state.listing_matcher = None

    async def build() -> MatcherFollower | None:
        try:
            app.state.listing_matcher = await MatcherFollower.build(app.state.sessions)
        except Exception:
            # An unmigrated database, say: /readyz reports it; the follower retries.
            logging.getLogger("alliance.listings").warning(
                "listing matcher not built yet", exc_info=True
            )
        return app.state.listing_matcher  # type: ignore[no-any-return]

    follower = await build()
    if not follow:
        return None

    async def keep_fresh() -> None:
        current = follower
        while current is None:
            await asyncio.sleep(5)
            current = await build()
        await current.run()

    return asyncio.create_task(keep_fresh(), name="listing-matcher")


async def authenticate(request: Request):  # type: ignore[no-untyped-def]
    """The caller of this request, or None; a bad token is a 401 that names the reason."""
    settings: Settings = request.app.state.settings
    try:
        principal = principal_from_header(
            request.app.state.keys,
            request.headers.get("authorization"),
            issuer=settings.base_url,
            audience=settings.token_audience,
        )
        if principal is not None and await token_revoked(
            request.app.state.sessions, principal.token_id
        ):
            raise InvalidToken("token has been revoked")
    except InvalidToken as exc:
        raise HTTPException(
            status_code=401,
            detail=str(exc),
            headers={
                "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{exc}"'
            },
        ) from exc
    set_caller(
        Caller(
            actor=principal.actor,
            organisation_id=principal.organisation_id,
            person_id=principal.person_id,
            client_id=principal.client_id,
        )
        if principal
        else None
    )
    return principal


def _celery_sender(settings: Settings, metrics: Metrics) -> JobSender:
    from workers.celery_app import CeleryJobSender, make_celery

    class CountingSender(CeleryJobSender):
        def send(self, jobs):  # type: ignore[no-untyped-def]
            super().send(jobs)
            for job in jobs:
                metrics.jobs_sent.labels(task=job.name).inc()

    return CountingSender(make_celery(settings))
