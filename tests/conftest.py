"""Shared fixtures: the migrated schema on SQLite always and on PostgreSQL when
``ALLIANCE_TEST_DATABASE_URL`` is set; each test runs in a transaction rolled back at its end."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from alliance import migrate
from alliance.auth.keys import KeyRing
from alliance.auth.tokens import TokenGrant, issue_access_token
from alliance.config import Settings, load_settings, normalise_database_url
from alliance.db import make_engine, make_sessionmaker
from alliance.jobs import SENDER_KEY, Job

PG_URL = os.environ.get("ALLIANCE_TEST_DATABASE_URL")
BROKER_URL = os.environ.get("ALLIANCE_TEST_BROKER_URL")
NO_PG = "ALLIANCE_TEST_DATABASE_URL is not set: PostgreSQL tests skipped"
NO_BROKER = "ALLIANCE_TEST_BROKER_URL is not set: Redis broker tests skipped"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.skipif(not PG_URL, reason=NO_PG)),
]


def pg_url() -> str:
    assert PG_URL
    return normalise_database_url(PG_URL)


async def _reset_postgres_schema(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


async def create_fresh_database(backend: str, tmp_path: Path) -> tuple[str, Any]:
    """An empty database of its own (for tests that must really commit); returns (url, drop)."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / f'fresh-{uuid.uuid4().hex[:8]}.db'}", None
    base = pg_url()
    name = f"alliance_t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    url = base.rsplit("/", 1)[0] + f"/{name}"

    async def drop() -> None:
        engine = make_engine(base)
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()

    return url, drop


@pytest.fixture(scope="session", params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'alliance.db'}"
    else:
        url = pg_url()
        await _reset_postgres_schema(url)
    # Alembic's env runs its own event loop; keep it off this one.
    import asyncio

    await asyncio.to_thread(migrate.upgrade, url)
    return url


@pytest.fixture(scope="session")
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, sqlite_savepoints=True)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        outer = await conn.begin()
        yield conn
        await outer.rollback()


class RecordingSender:
    """Stands in for the broker (the edge of the world): records what would be published."""

    def __init__(self) -> None:
        self.sent: list[Job] = []

    def send(self, jobs: list[Job]) -> None:
        self.sent.extend(jobs)


@pytest.fixture
def job_sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def sessions(
    connection: AsyncConnection, job_sender: RecordingSender
) -> async_sessionmaker[AsyncSession]:
    """Sessions whose commits are savepoints inside the test's rolled-back transaction."""
    return make_sessionmaker(
        connection, join_transaction_mode="create_savepoint", **{SENDER_KEY: job_sender}
    )


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as s:
        yield s


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key in list(os.environ):
        if key.startswith("ALLIANCE_") and not key.startswith("ALLIANCE_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ALLIANCE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("ALLIANCE_LOG_FORMAT", "json")
    return load_settings()


@pytest.fixture
async def app(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], job_sender: RecordingSender
):
    from alliance.app import create_app

    application = create_app(settings, sessions=sessions, job_sender=job_sender)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://alliance.test") as c:
        yield c


@pytest.fixture
def issue_token(app: Any, settings: Settings):
    """issue_token(org, scopes=..., person=None) -> bearer token from the app's own key."""

    def issue(org: Any, scopes: str = "admin", person: Any = None, ttl: int = 600) -> str:
        keys: KeyRing = app.state.keys
        grant = TokenGrant(
            subject=str(person.id) if person else f"test:{org.slug}",
            client_id="tests",
            organisation_id=org.id,
            organisation_slug=org.slug,
            scopes=tuple(scopes.split()),
            person_id=person.id if person else None,
        )
        token, _ = issue_access_token(
            keys, grant, issuer=settings.base_url, audience=settings.token_audience, ttl_seconds=ttl
        )
        return token

    return issue


@pytest.fixture
async def demo(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """The demo alliance, committed inside the test's transaction; returns orgs and groups by slug."""
    from alliance.db import unit_of_work
    from alliance.demo import seed
    from alliance.orgs import repository as repo

    async with unit_of_work(sessions) as s:
        await seed(s)
    async with sessions() as s:
        orgs = {
            o.slug: o
            for o in (await repo.page_organisations(s, kinds=None, after=None, limit=100)).items
        }
        groups = {
            g.slug: g for g in (await repo.page_working_groups(s, after=None, limit=100)).items
        }
    return {"orgs": orgs, "groups": groups}


class GraphQLClient:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code in (200, 401), response.text
        return response.json()


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is absent (a user's clone has no ../shared)")
    return SHARED
