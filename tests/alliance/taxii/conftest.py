"""A real Alliance on a real uvicorn (its own engine, a fresh migrated database seeded with the
demo alliance, its indicators and its identification guides), plus objects the TAXII reader
must never be shown."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn

from alliance import migrate
from alliance.auth.tokens import TokenGrant, issue_access_token
from alliance.config import Settings, load_settings
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.indicators import service as indicators
from alliance.indicators.service import Submission
from alliance.orgs import repository as orgs_repo
from alliance.stix.conversion import indicator_id
from alliance.stix.extensions import Instance
from alliance.stix.ids import instance_namespace
from tests.conftest import BACKENDS, RecordingSender, create_fresh_database
from tests.test_serve import free_port

TAXII = "application/taxii+json;version=2.1"


class BearerAuth(requests.auth.AuthBase):
    """What taxii2-client takes to authenticate: a ``requests`` auth object."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


@dataclass
class Taxii:
    base_url: str
    settings: Settings
    app: Any
    instance: Instance
    orgs: dict[str, Any]
    groups: dict[str, Any]
    # STIX ids of objects the reader (acme-motors) must never be shown.
    hidden: dict[str, str] = field(default_factory=dict)
    # STIX ids of the reader's own objects, by the same names.
    shown: dict[str, str] = field(default_factory=dict)

    @property
    def discovery_url(self) -> str:
        return f"{self.base_url}/taxii2/"

    def token(self, org: str, scopes: str = "indicators:read indicators:write") -> str:
        organisation = self.orgs[org]
        token, _ = issue_access_token(
            self.app.state.keys,
            TokenGrant(
                subject=f"test:{org}",
                client_id="tests",
                organisation_id=organisation.id,
                organisation_slug=organisation.slug,
                scopes=tuple(scopes.split()),
            ),
            issuer=self.settings.base_url,
            audience=self.settings.token_audience,
            ttl_seconds=3600,
        )
        return token

    def auth(
        self, org: str = "acme-motors", scopes: str = "indicators:read indicators:write"
    ) -> BearerAuth:
        return BearerAuth(self.token(org, scopes))


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


HIDDEN = {
    # Another organisation's own object, in a group the reader sits in.
    "organisation": ("shopmart", "automotive-parts", "ORGANISATION", "AMBER", "hidden-org.example"),
    # A group the reader has no seat in.
    "other_group": ("luxe-house", "luxury-goods", "WORKING_GROUP", "GREEN", "hidden-wg.example"),
    # Alliance-wide, but TLP:RED never leaves the instance.
    "red": ("shopmart", None, "ALLIANCE", "RED", "hidden-red.example"),
    # Not even the owner's own RED travels out through TAXII.
    "own_red": ("acme-motors", "automotive-parts", "WORKING_GROUP", "RED", "own-red.example"),
}
SHOWN = {
    "group": ("shopmart", "automotive-parts", "WORKING_GROUP", "AMBER_STRICT", "shown-wg.example"),
    "alliance": ("volt-electronics", None, "ALLIANCE", "CLEAR", "shown-alliance.example"),
    "federation": ("luxe-house", "luxury-goods", "FEDERATION", "GREEN", "shown-fed.example"),
    "own_private": ("acme-motors", "automotive-parts", "ORGANISATION", "AMBER", "own.example"),
}


async def _seed(
    url: str, instance: Instance
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str], dict[str, str]]:
    from alliance.demo import seed

    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        async with unit_of_work(sessions) as session:
            # The demo guides too: the airbag one has covert and forensic features.
            await seed(session, with_indicators=True, with_guides=True)
        ids: dict[str, dict[str, str]] = {"hidden": {}, "shown": {}}
        async with unit_of_work(sessions) as session:
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
            for bucket, table in (("hidden", HIDDEN), ("shown", SHOWN)):
                for name, (org, group, distribution, tlp, domain) in table.items():
                    viewer = await indicators.viewer_of_organisation(session, orgs[org].id)
                    [result] = await indicators.submit(
                        session,
                        viewer,
                        [
                            Submission(
                                type="domain",
                                value=domain,
                                working_group_id=groups[group].id if group else None,
                                distribution=distribution,
                                tlp=tlp,
                                confidence=70,
                            )
                        ],
                    )
                    assert result.assertion is not None, result.error
                    ids[bucket][name] = indicator_id(instance, result.assertion.id)
        return orgs, groups, ids["hidden"], ids["shown"]
    finally:
        await engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
async def taxii(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from alliance.app import create_app

    tmp = tmp_path_factory.mktemp(f"taxii-{request.param}")
    url, drop = await create_fresh_database(request.param, tmp)
    await asyncio.to_thread(migrate.upgrade, url)
    port = free_port()
    settings = _settings_for(tmp, url, port)
    instance = Instance(instance_namespace(settings.base_url), "test", settings.base_url)
    orgs, groups, hidden, shown = await _seed(url, instance)
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
    try:
        yield Taxii(settings.base_url, settings, app, instance, orgs, groups, hidden, shown)
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 30)
        if drop is not None:
            await drop()


def new_uuid() -> str:
    return str(uuid.uuid4())
