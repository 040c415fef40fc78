"""Migrations run both ways on both databases, and describe exactly what the models declare."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from alliance import migrate
from alliance.db import make_engine
from alliance.models import metadata
from tests.conftest import BACKENDS, create_fresh_database


async def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend_name", BACKENDS)
async def test_upgrade_downgrade_upgrade(backend_name: str, tmp_path: Path) -> None:
    url, drop = await create_fresh_database(backend_name, tmp_path)
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        assert set(metadata.tables) <= await table_names(url)
        await asyncio.to_thread(migrate.downgrade, url, "base")
        assert await table_names(url) <= {"alembic_version"}
        await asyncio.to_thread(migrate.upgrade, url)
        assert set(metadata.tables) <= await table_names(url)
    finally:
        if drop:
            await drop()


async def test_models_and_migrations_agree(engine) -> None:
    """Autogenerate against the migrated schema finds nothing to do."""

    def diff(sync_conn):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == [], f"models and migrations differ; write a migration: {differences}"
