"""Real alliance instances for federation tests: each its own fresh migrated database
seeded with the demo directory, its own uvicorn on loopback, and the operator's hands on
its database (async sessions for the domain services, sync ones for OAuth clients)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alliance import migrate
from alliance.auth import service as auth_service
from alliance.auth.sync_db import make_sync_engine, make_sync_sessionmaker
from alliance.config import Settings, load_settings
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.federation import sealing
from alliance.federation import service as federation
from alliance.indicators import service as indicators
from alliance.indicators.models import IndicatorAssertion
from alliance.orgs import repository as orgs_repo
from alliance.orgs import service as orgs_service
from alliance.orgs.models import OrganisationKind
from tests.alliance.auth.conftest import free_port
from tests.conftest import RecordingSender, create_fresh_database


@dataclass
class Instance:
    name: str
    base_url: str
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    sync_sessions: Any
    instance_id: str

    async def write(self, work: Any) -> Any:
        async with unit_of_work(self.sessions) as session:
            return await work(session)

    async def read(self, work: Any) -> Any:
        async with self.sessions() as session:
            return await work(session)

    def client(self, org: str, scopes: list[str]) -> tuple[str, str]:
        def create(session: Any) -> tuple[str, str]:
            created = auth_service.create_client(
                session,
                None,
                auth_service.ClientData(organisation=org, name=f"{org} client", scopes=scopes),
            )
            assert created.secret is not None
            return created.client.client_id, created.secret

        with self.sync_sessions() as session:
            result = create(session)
            session.commit()
            return result

    def token(self, org: str, scopes: list[str]) -> str:
        client_id, secret = self.client(org, scopes)
        response = httpx.post(
            f"{self.base_url}/oauth/token",
            data={"grant_type": "client_credentials", "scope": " ".join(scopes)},
            auth=(client_id, secret),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    async def organisation(self, slug: str) -> Any:
        org = await self.read(lambda s: orgs_repo.organisation_by_slug(s, slug))
        assert org is not None, slug
        return org

    async def submit(self, org_slug: str, **fields: Any) -> IndicatorAssertion:
        org = await self.organisation(org_slug)

        async def work(session: AsyncSession) -> IndicatorAssertion:
            viewer = await indicators.viewer_of_organisation(session, org.id)
            [result] = await indicators.submit(session, viewer, [indicators.Submission(**fields)])
            assert result.error is None, result.error
            assert result.assertion is not None
            return result.assertion

        return await self.write(work)

    async def revoke(self, org_slug: str, assertion_id: uuid.UUID, reason: str) -> None:
        org = await self.organisation(org_slug)

        async def work(session: AsyncSession) -> None:
            viewer = await indicators.viewer_of_organisation(session, org.id)
            await indicators.revoke(session, viewer, assertion_id, reason=reason)

        await self.write(work)

    async def issue_federation_credentials(self, for_instance: str) -> tuple[str, str]:
        """An organisation here standing for another instance, and a federation client of it."""
        slug = f"instance-{for_instance}"

        async def make(session: AsyncSession) -> None:
            await orgs_service.create_organisation(
                session,
                None,
                orgs_service.OrganisationData(
                    slug=slug, name=f"Instance {for_instance}", kind=OrganisationKind.PLATFORM
                ),
            )

        await self.write(make)
        return self.client(slug, ["federation"])

    async def add_peer(self, other: Instance) -> None:
        client_id, secret = await other.issue_federation_credentials(self.name)

        async def add(session: AsyncSession) -> None:
            await federation.add_peer(
                session,
                None,
                federation.PeerData(
                    name=other.name,
                    base_url=other.base_url,
                    client_id=client_id,
                    client_secret=secret,
                ),
                sealing_key=self.sealing_key(),
            )

        await self.write(add)

    def sealing_key(self) -> Fernet:
        return sealing.sealing_key(self.settings)


def settings_for(tmp: Path, url: str, port: int, *, allow_private: bool) -> Settings:
    keep = {k: v for k, v in os.environ.items() if k.startswith("ALLIANCE_")}
    env = {
        "ALLIANCE_DATA_DIR": str(tmp / "var"),
        "ALLIANCE_DATABASE_URL": url,
        "ALLIANCE_PORT": str(port),
        "ALLIANCE_BASE_URL": f"http://127.0.0.1:{port}",
        "ALLIANCE_EMBEDDED_WORKER": "false",
        "ALLIANCE_LOG_FORMAT": "text",
        "ALLIANCE_LOG_LEVEL": "WARNING",
        # Peers run on loopback here; allowing private hosts is the operator's choice.
        "ALLIANCE_OUTBOUND_ALLOW_PRIVATE_HOSTS": "true" if allow_private else "false",
        "ALLIANCE_FEDERATION_PAGE_SIZE": "3",
    }
    for key in keep:
        if not key.startswith("ALLIANCE_TEST_"):
            del os.environ[key]
    os.environ.update(env)
    try:
        return load_settings()
    finally:
        for key in env:
            del os.environ[key]
        os.environ.update(keep)


@dataclass
class Running:
    instance: Instance
    server: uvicorn.Server
    thread: threading.Thread
    engines: list[Any]
    drop: Any


async def start_instance(name: str, backend: str, tmp: Path) -> Running:
    from alliance.app import create_app
    from alliance.demo import seed
    from alliance.federation import repository as federation_repo

    await asyncio.to_thread(tmp.mkdir, parents=True, exist_ok=True)
    url, drop = await create_fresh_database(backend, tmp)
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    async with unit_of_work(sessions) as session:
        await seed(session)
    async with sessions() as session:
        instance_id = await federation_repo.local_instance_id(session)
    assert instance_id is not None
    port = free_port()
    settings = settings_for(tmp, url, port, allow_private=True)
    app = create_app(settings, job_sender=RecordingSender())
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped during start-up"
        assert time.monotonic() < deadline, "uvicorn did not start"
        await asyncio.sleep(0.05)
    sync_engine = make_sync_engine(url)
    instance = Instance(
        name=name,
        base_url=settings.base_url,
        settings=settings,
        sessions=sessions,
        sync_sessions=make_sync_sessionmaker(sync_engine),
        instance_id=instance_id,
    )
    return Running(instance, server, thread, [engine, sync_engine], drop)


async def stop_instance(running: Running) -> None:
    running.server.should_exit = True
    await asyncio.to_thread(running.thread.join, 30)
    await running.engines[0].dispose()
    running.engines[1].dispose()
    if running.drop is not None:
        await running.drop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def triangle(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, Instance]]:
    """Instances a, b and c, each on its own database and its own server."""
    from tests.conftest import PG_URL

    if request.param == "postgresql" and not PG_URL:
        pytest.skip("ALLIANCE_TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    tmp = tmp_path_factory.mktemp(f"federation-{request.param}")
    running = []
    try:
        for name in ("a", "b", "c"):
            running.append(await start_instance(name, request.param, tmp / name))
        yield {r.instance.name: r.instance for r in running}
    finally:
        for r in running:
            await stop_instance(r)
