"""A real Celery worker makes the thumbnail of a committed upload (embedded broker on SQLite,
Redis on PostgreSQL)."""

from __future__ import annotations

import asyncio
import io
import os
import time
from pathlib import Path

import pytest
from PIL import Image

from alliance import migrate
from alliance.blobs import service
from alliance.blobs.models import Blob, ThumbnailStatus
from alliance.blobs.storage import storage_for, thumbnail_key
from alliance.config import load_settings
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.demo import seed
from alliance.jobs import SENDER_KEY
from alliance.orgs import repository as orgs_repo
from tests.alliance.blobs import samples
from tests.conftest import create_fresh_database
from tests.workers.test_worker import (  # noqa: F401  (worker_env is a fixture)
    PROFILES,
    start_worker,
    stop_worker,
    worker_env,
)
from workers.celery_app import QUEUES, CeleryJobSender, make_celery


@pytest.mark.parametrize(("broker", "backend_name"), PROFILES)
async def test_a_real_worker_makes_the_thumbnail_after_commit(
    broker: str,
    backend_name: str,
    tmp_path: Path,
    worker_env: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
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
    proc = start_worker(worker_env, tmp_path)
    status = None
    try:
        async with unit_of_work(sessions) as session:
            acme = await orgs_repo.organisation_by_slug(session, "acme-motors")
            assert acme is not None
            blob = await service.store_upload(
                session,
                settings=settings,
                owner_org_id=acme.id,
                filename="p.png",
                data=samples.png(),
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            async with sessions() as session:
                status = (await session.get(Blob, blob.id)).thumbnail_status  # type: ignore[union-attr]
            if status is not ThumbnailStatus.PENDING:
                break
            await asyncio.sleep(0.3)
    finally:
        output = stop_worker(proc)
        await engine.dispose()
        if drop:
            await drop()
    assert status is ThumbnailStatus.READY, f"no thumbnail made; the worker said:\n{output}"
    small = Image.open(io.BytesIO(storage_for(settings).get(thumbnail_key(blob.sha256))))
    assert (small.format, max(small.size)) == ("JPEG", 320)
