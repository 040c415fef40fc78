"""A real server for the feed's end-to-end tests: a fresh migrated database with the demo
directory, the app owning its engine, served by uvicorn on a free port."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from alliance import migrate
from alliance.auth.tokens import TokenGrant, issue_access_token
from alliance.changelog import service as changelog
from alliance.changelog.models import Operation
from alliance.config import load_settings
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.demo import seed
from alliance.orgs import repository as orgs_repo
from tests.conftest import RecordingSender, create_fresh_database
from tests.test_serve import free_port


@dataclass
class LiveServer:
    app: Any
    port: int
    sessions: Any
    orgs: dict[str, Any]
    groups: dict[str, Any]

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def token(self, slug: str, scopes: str, ttl_seconds: int = 600) -> str:
        org = self.orgs[slug]
        settings = self.app.state.settings
        token, _ = issue_access_token(
            self.app.state.keys,
            TokenGrant(
                subject=f"test:{slug}",
                client_id="tests",
                organisation_id=org.id,
                organisation_slug=slug,
                scopes=tuple(scopes.split()),
            ),
            issuer=settings.base_url,
            audience=settings.token_audience,
            ttl_seconds=ttl_seconds,
        )
        return token

    async def write(self, *changes: dict[str, Any]) -> None:
        async with unit_of_work(self.sessions) as s:
            for change in changes:
                changelog.record_change(s, **{"version": 1, "operation": Operation.CREATE} | change)


@asynccontextmanager
async def live_server(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pool_size: int = 5
) -> AsyncIterator[LiveServer]:
    from alliance.app import create_app

    url, drop = await create_fresh_database(backend, tmp_path)
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url, pool_size=pool_size)
    sessions = make_sessionmaker(engine)
    async with unit_of_work(sessions) as session:
        await seed(session)
    async with sessions() as session:
        orgs = {
            o.slug: o
            for o in (
                await orgs_repo.page_organisations(session, kinds=None, after=None, limit=100)
            ).items
        }
        groups = {
            g.slug: g
            for g in (await orgs_repo.page_working_groups(session, after=None, limit=100)).items
        }
    monkeypatch.setenv("ALLIANCE_DATABASE_URL", url)
    monkeypatch.setenv("ALLIANCE_RATELIMIT_ENABLED", "false")
    app = create_app(load_settings(), job_sender=RecordingSender())
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110  (uvicorn offers no event to wait on)
            if serving.done():
                serving.result()
            await asyncio.sleep(0.05)
        yield LiveServer(app, port, sessions, orgs, groups)
    finally:
        server.should_exit = True
        await serving
        await engine.dispose()
        if drop is not None:
            await drop()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
