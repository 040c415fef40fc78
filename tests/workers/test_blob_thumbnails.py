"""A real Celery worker makes the thumbnail of a committed upload (embedded broker on SQLite,
Redis on PostgreSQL)."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

import pytest
from PIL import Image

from alliance.blobs import service
from alliance.blobs.models import Blob, ThumbnailStatus
from alliance.blobs.storage import storage_for, thumbnail_key
from alliance.db import unit_of_work
from alliance.orgs import repository as orgs_repo
from tests.alliance.blobs import samples
from tests.workers.seeded import seeded_for_worker
from tests.workers.test_worker import (  # noqa: F401  (worker_env is a fixture)
    PROFILES,
    start_worker,
    stop_worker,
    worker_env,
)


@pytest.mark.parametrize(("broker", "backend_name"), PROFILES)
async def test_a_real_worker_makes_the_thumbnail_after_commit(
    broker: str,
    backend_name: str,
    tmp_path: Path,
    worker_env: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = await seeded_for_worker(broker, backend_name, tmp_path, worker_env, monkeypatch)
    settings, sessions = world.settings, world.sessions
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
        await world.close()
    assert status is ThumbnailStatus.READY, f"no thumbnail made; the worker said:\n{output}"
    small = Image.open(io.BytesIO(storage_for(settings).get(thumbnail_key(blob.sha256))))
    assert (small.format, max(small.size)) == ("JPEG", 320)
