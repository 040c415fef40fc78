"""A fresh, migrated, demo-seeded database with the environment a real worker reads, for the
worker tests that write through the services and watch a worker act on it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from sqlalchemy.ext.asyncio import AsyncEngine

from alliance import migrate
from alliance.config import Settings, load_settings
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.demo import seed
from alliance.jobs import SENDER_KEY
from tests.conftest import create_fresh_database
from workers.celery_app import QUEUES, CeleryJobSender, make_celery


@dataclass
class Seeded:
    settings: Settings
    celery: Celery
    engine: AsyncEngine
    sessions: Any
    drop: Callable[[], Awaitable[None]] | None

    async def close(self) -> None:
        await self.engine.dispose()
        if self.drop:
            await self.drop()


async def seeded_for_worker(
    broker: str,
    backend_name: str,
    tmp_path: Path,
    worker_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Seeded:
    """``worker_env`` gains the database (and Redis, for that profile); this process reads
    the same settings; Redis queues start empty."""
    url, drop = await create_fresh_database(backend_name, tmp_path)
    await asyncio.to_thread(migrate.upgrade, url)
    worker_env["ALLIANCE_DATABASE_URL"] = url
    if broker == "redis":
        worker_env["ALLIANCE_BROKER_URL"] = os.environ["ALLIANCE_TEST_BROKER_URL"]
    for key in list(os.environ):
        if key.startswith("ALLIANCE_") and not key.startswith("ALLIANCE_TEST_"):
            monkeypatch.delenv(key)
    for key, value in worker_env.items():
        if key.startswith("ALLIANCE_"):
            monkeypatch.setenv(key, value)
    settings = load_settings()
    celery = make_celery(settings)
    if broker == "redis":
        with celery.connection_for_write() as conn:
            for queue in QUEUES:
                conn.default_channel.queue_purge(queue)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine, **{SENDER_KEY: CeleryJobSender(celery)})
    async with unit_of_work(sessions) as session:
        await seed(session)
    return Seeded(settings, celery, engine, sessions, drop)
