"""In a running server (a real uvicorn, the app owning its engine and its change-log
follower), a revoked indicator stops matching within two seconds."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from alliance import migrate
from alliance.auth.tokens import TokenGrant, issue_access_token
from alliance.config import load_settings
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.demo import seed
from alliance.indicators import service as indicators
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.models import RevocationReason
from alliance.listings.demo import catalogue_text
from alliance.orgs import repository as orgs_repo
from tests.conftest import BACKENDS, RecordingSender, create_fresh_database
from tests.test_serve import free_port

CHECK = """
query ($listing: ListingInput!) { checkListing(listing: $listing) { verdict score matches { id } } }
"""
FRESHNESS_SECONDS = 2.0


@pytest.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    url, drop = await create_fresh_database(request.param, tmp_path)
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    async with unit_of_work(sessions) as session:
        await seed(session, with_indicators=True)
    yield url, sessions
    await engine.dispose()
    if drop is not None:
        await drop()


async def test_a_revoked_indicator_stops_matching_within_two_seconds(
    database: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alliance.app import create_app

    url, sessions = database
    monkeypatch.setenv("ALLIANCE_DATABASE_URL", url)
    port = free_port()
    app = create_app(load_settings(), job_sender=RecordingSender())
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110  (uvicorn offers no event to wait on)
            await asyncio.sleep(0.05)
        async with sessions() as session:
            shopmart = await orgs_repo.organisation_by_slug(session, "shopmart")
            acme = await orgs_repo.organisation_by_slug(session, "acme-motors")
        assert shopmart is not None
        assert acme is not None
        app_settings = app.state.settings
        token, _ = issue_access_token(
            app.state.keys,
            TokenGrant(
                subject="test:shopmart",
                client_id="tests",
                organisation_id=shopmart.id,
                organisation_slug=shopmart.slug,
                scopes=("listings:check",),
            ),
            issuer=app_settings.base_url,
            audience=app_settings.token_audience,
            ttl_seconds=600,
        )
        listing = next(
            item for item in map(json.loads, catalogue_text().splitlines()) if item["ref"] == "L-4"
        )

        async def verdict(client: httpx.AsyncClient) -> str:
            answer = await client.post(
                "/graphql",
                json={"query": CHECK, "variables": {"listing": listing}},
                headers={"Authorization": f"Bearer {token}"},
            )
            return str(answer.json()["data"]["checkListing"]["verdict"])

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            assert await verdict(client) == "BLOCK"
            phone = next(
                e
                for e in app.state.listing_matcher.matcher.assertions.values()
                if e.type == IndicatorType.PHONE and e.value == "+8675526881234"
            )
            async with unit_of_work(sessions) as session:
                owner = await indicators.viewer_of_organisation(session, acme.id)
                await indicators.revoke(
                    session, owner, phone.id, reason=RevocationReason.TAKEN_DOWN
                )
            revoked_at = time.monotonic()
            while await verdict(client) != "ALLOW":
                assert time.monotonic() - revoked_at < FRESHNESS_SECONDS
                await asyncio.sleep(0.05)
    finally:
        server.should_exit = True
        await serving
