"""A real Alliance on a real uvicorn, on a fresh migrated database seeded with the demo
alliance, for driving the authorization server over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt as pyjwt
import pytest
import uvicorn
from joserfc.jwk import RSAKey
from sqlalchemy.orm import Session

from alliance import migrate
from alliance.auth import service
from alliance.auth.sync_db import make_sync_engine, make_sync_sessionmaker
from alliance.config import Settings, load_settings
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from tests.conftest import BACKENDS, RecordingSender, create_fresh_database

PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Alliance:
    """The running instance and the operator's hands on its database."""

    base_url: str
    settings: Settings
    sessions: Any

    def write(self, work: Any) -> Any:
        with self.sessions() as session:
            result = work(session)
            session.commit()
            return result

    def read(self, work: Any) -> Any:
        with self.sessions() as session:
            return work(session)

    def client(self, org: str = "shopmart", **data: Any) -> tuple[str, str | None]:
        values: dict[str, Any] = {
            "organisation": org,
            "name": f"{org} test client",
            "scopes": ["indicators:read", "listings:check", "sync:read"],
        }
        values.update(data)

        def create(session: Session) -> tuple[str, str | None]:
            created = service.create_client(session, None, service.ClientData(**values))
            return created.client.client_id, created.secret

        return self.write(create)

    def person(self, email: str, *, org_admin: bool = False, password: str = PASSWORD) -> None:
        from alliance.auth import repository as repo

        def set_password(session: Session) -> None:
            person = repo.person_by_email(session, email)
            assert person is not None, email
            service.set_local_account(
                session, None, person.id, password=password, org_admin=org_admin
            )

        self.write(set_password)

    def disable(self, client_id: str) -> None:
        self.write(lambda s: service.set_client_disabled(s, None, client_id))

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10)

    def jwks(self) -> dict[str, Any]:
        return httpx.get(f"{self.base_url}/.well-known/jwks.json", timeout=10).json()

    def verify(self, token: str) -> dict[str, Any]:
        """Check a token as a resource server would, with PyJWT against the published JWKS."""
        header = pyjwt.get_unverified_header(token)
        assert header["typ"] == "at+jwt"
        keys = {k["kid"]: k for k in self.jwks()["keys"]}
        public = pyjwt.PyJWK(keys[header["kid"]]).key
        return pyjwt.decode(
            token,
            public,
            algorithms=["RS256"],
            audience=self.settings.token_audience,
            issuer=self.settings.base_url,
        )

    def ids(self) -> dict[str, Any]:
        from alliance.auth import repository as repo

        def read(session: Session) -> dict[str, Any]:
            found: dict[str, Any] = {}
            for slug in ("shopmart", "acme-motors", "alliance-office", "city-police"):
                org = repo.organisation_by_slug(session, slug)
                assert org is not None
                found[slug] = org.id
                found |= {f"wg:{k}": v for k, v in repo.seats(session, org.id).items()}
            return found

        return self.read(read)


def _settings_for(tmp: Path, url: str, port: int) -> Settings:
    keep = {k: v for k, v in os.environ.items() if k.startswith("ALLIANCE_")}
    env = {
        "ALLIANCE_DATA_DIR": str(tmp / "var"),
        "ALLIANCE_DATABASE_URL": url,
        "ALLIANCE_PORT": str(port),
        "ALLIANCE_BASE_URL": f"http://127.0.0.1:{port}",
        "ALLIANCE_EMBEDDED_WORKER": "false",
        "ALLIANCE_LOG_FORMAT": "text",
        "ALLIANCE_LOG_LEVEL": "WARNING",
        # The test issuer publishes its keys on loopback; allowing it is the operator's choice.
        "ALLIANCE_OAUTH_ALLOW_PRIVATE_JWKS_HOSTS": "true",
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


async def _seed(url: str) -> None:
    from alliance.demo import seed

    engine = make_engine(url)
    try:
        async with unit_of_work(make_sessionmaker(engine)) as session:
            await seed(session)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
async def alliance(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from alliance.app import create_app

    tmp = tmp_path_factory.mktemp(f"oauth-{request.param}")
    url, drop = await create_fresh_database(request.param, tmp)
    await asyncio.to_thread(migrate.upgrade, url)
    await _seed(url)
    port = free_port()
    settings = _settings_for(tmp, url, port)
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
    engine = make_sync_engine(url)
    try:
        yield Alliance(
            base_url=settings.base_url, settings=settings, sessions=make_sync_sessionmaker(engine)
        )
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 30)
        engine.dispose()
        if drop is not None:
            await drop()


# --- a member organisation's identity provider ------------------------------------------------


class KeyServer:
    """Publishes a JWKS over HTTP on loopback, as a member's identity provider would."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                owner.requests += 1
                body = json.dumps(owner.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def publish(self, *keys: RSAKey) -> None:
        self.document = {"keys": [k.as_dict(private=False) for k in keys]}

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def key_server() -> Iterator[KeyServer]:
    server = KeyServer()
    yield server
    server.close()
