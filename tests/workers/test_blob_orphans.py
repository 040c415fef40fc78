"""``blobs.sweep_orphans`` is on the beat schedule, and a real worker runs it (embedded broker on
SQLite, Redis on PostgreSQL): the orphan goes, the referenced file stays."""

from __future__ import annotations

import asyncio
import hashlib
import time
from datetime import timedelta
from pathlib import Path

import pytest

from alliance.blobs import service
from alliance.blobs.orphans import SWEEP_TASK
from alliance.blobs.storage import blob_key
from alliance.config import Settings
from alliance.db import unit_of_work
from alliance.orgs import repository as orgs_repo
from tests.alliance.blobs import samples
from tests.alliance.blobs.test_orphans import backdate
from tests.workers.seeded import seeded_for_worker
from tests.workers.test_worker import (  # noqa: F401  (worker_env is a fixture)
    PROFILES,
    start_worker,
    stop_worker,
    worker_env,
)
from workers.celery_app import make_celery


def test_the_sweep_is_scheduled_on_the_periodic_queue(settings: Settings) -> None:
    app = make_celery(settings)
    entry = app.conf.beat_schedule["sweep-orphan-files"]
    assert entry["task"] == SWEEP_TASK
    assert entry["schedule"] == timedelta(seconds=settings.blobs.orphan_sweep_every_seconds)
    assert SWEEP_TASK in app.tasks
    assert app.amqp.router.route({}, SWEEP_TASK)["queue"].name == "periodic"


@pytest.mark.parametrize(("broker", "backend_name"), PROFILES)
async def test_a_real_worker_sweeps_orphans_and_keeps_referenced_files(
    broker: str,
    backend_name: str,
    tmp_path: Path,
    worker_env: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = await seeded_for_worker(broker, backend_name, tmp_path, worker_env, monkeypatch)
    settings, celery, sessions = world.settings, world.celery, world.sessions
    async with unit_of_work(sessions) as session:
        acme = await orgs_repo.organisation_by_slug(session, "acme-motors")
        assert acme is not None
        kept = await service.store_upload(
            session, settings=settings, owner_org_id=acme.id, filename="a.pdf", data=samples.pdf()
        )
    with pytest.raises(RuntimeError):
        async with unit_of_work(sessions) as session:
            lost = await service.store_upload(
                session,
                settings=settings,
                owner_org_id=acme.id,
                filename="b.png",
                data=samples.png(),
            )
            raise RuntimeError("the request failed after the upload")
    kept_path = settings.blobs_dir / blob_key(kept.sha256)
    lost_path = settings.blobs_dir / blob_key(lost.sha256)
    assert lost_path.is_file()
    backdate(kept_path, lost_path)

    proc = start_worker(worker_env, tmp_path)
    try:
        celery.send_task(SWEEP_TASK)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if not lost_path.exists():
                break
            await asyncio.sleep(0.3)
    finally:
        output = stop_worker(proc)
        await world.close()
    assert not lost_path.exists(), f"the orphan was not swept; the worker said:\n{output}"
    assert hashlib.sha256(kept_path.read_bytes()).hexdigest() == kept.sha256
