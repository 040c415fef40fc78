"""``alliance demo`` seeds the two demo guides (published, photos, a covert tier, Chinese);
``alliance guides export`` prints them as JSON or HTML, cut to the tiers of ``--as``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from alliance.db import make_engine, make_sessionmaker
from alliance.guides.demo import AIRBAG, HANDBAG
from alliance.guides.models import Guide, GuidePhoto, GuideStatus
from tests.conftest import BACKENDS, create_fresh_database
from tests.test_cli import Cli, clean_env


@pytest.fixture(scope="module", params=BACKENDS)
async def demo_cli(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Cli, dict[str, str], int]]:
    tmp = tmp_path_factory.mktemp(f"guides-cli-{request.param}")
    data_dir = tmp / "var"
    if request.param == "sqlite":
        url, drop = f"sqlite+aiosqlite:///{data_dir / 'alliance.db'}", None
        env = clean_env(data_dir)
    else:
        url, drop = await create_fresh_database("postgresql", tmp)
        env = clean_env(data_dir, ALLIANCE_DATABASE_URL=url)
    cli = Cli(cwd=tmp, env=env, database_url=url)
    try:
        await asyncio.to_thread(cli.ok, "db", "upgrade")
        await asyncio.to_thread(cli.ok, "demo")
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as session:
                guides = list(await session.scalars(select(Guide)))
                photos = len(list(await session.scalars(select(GuidePhoto))))
                assert {g.status for g in guides} == {GuideStatus.PUBLISHED}
                ids = {g.title: str(g.id) for g in guides}
        finally:
            await engine.dispose()
        yield cli, ids, photos
    finally:
        if drop is not None:
            await drop()


def export(cli: Cli, guide_id: str, *args: str) -> Any:
    return cli.ok("guides", "export", guide_id, *args)


def test_the_demo_guides(demo_cli: Any) -> None:
    cli, ids, photos = demo_cli
    assert set(ids) == {AIRBAG["title"], HANDBAG["title"]}
    assert photos == 4
    zh = json.loads(export(cli, ids[HANDBAG["title"]], "--lang", "zh"))
    assert zh["language"] == "zh"
    assert zh["content"]["title"] == "Luxe House 老花托特包"
    assert zh["translations"]["summary"] == "CURRENT"


def test_export_cuts_the_covert_tier(demo_cli: Any) -> None:
    cli, ids, _ = demo_cli
    airbag = ids[AIRBAG["title"]]

    def tiers(*args: str) -> list[str]:
        return [f["tier"] for f in json.loads(export(cli, airbag, *args))["content"]["features"]]

    assert tiers("--as", "city-police") == ["OVERT", "COVERT", "FORENSIC", "OVERT"]
    assert tiers("--as", "acme-motors") == ["OVERT", "COVERT", "FORENSIC", "OVERT"]
    assert tiers("--as", "shopmart") == ["OVERT", "OVERT"]
    assert tiers() == ["OVERT", "OVERT"]
    assert tiers("--include-restricted") == ["OVERT", "COVERT", "FORENSIC", "OVERT"]
    police = export(cli, airbag, "--format", "html", "--as", "city-police")
    platform = export(cli, airbag, "--format", "html", "--as", "shopmart")
    assert police.startswith("<!DOCTYPE html>")
    assert "UV micro-mark" in police
    assert "UV micro-mark" not in platform
    assert "Laser-etched rating label" in platform
    refused = cli("guides", "export", airbag, "--as", "nobody")
    assert refused.returncode == 1
    assert "organisation 'nobody' not found" in refused.stderr
