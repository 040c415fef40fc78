"""The periodic expiry runs for real: beat schedules ``indicators.expire`` on a real worker,
which marks what passed its valid_until and writes the change rows."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from alliance import migrate
from alliance.changelog.models import ChangeLogEntry, Operation
from alliance.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from alliance.demo import seed
from alliance.indicators import service
from alliance.indicators.models import AssertionStatus, IndicatorAssertion
from alliance.orgs import repository as orgs_repo
from tests.alliance.indicators.builders import submission
from tests.conftest import create_fresh_database
from tests.workers.test_worker import start_worker, stop_worker, worker_env  # noqa: F401
from workers.celery_app import make_celery


def test_the_task_is_registered_and_scheduled(settings) -> None:
    celery = make_celery(settings)

    schedule = {e["task"]: e["schedule"] for e in celery.conf.beat_schedule.values()}
    assert "indicators.expire" in celery.tasks
    assert "indicators.refresh_scores" in celery.tasks
    assert schedule["indicators.expire"] == timedelta(
        seconds=settings.indicators.expire_every_seconds
    )
    assert schedule["indicators.refresh_scores"] == timedelta(
        seconds=settings.indicators.score_refresh_every_seconds
    )


async def test_beat_and_a_worker_expire_what_passed_valid_until(
    tmp_path: Path,
    worker_env: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, _drop = await create_fresh_database("sqlite", tmp_path)
    await asyncio.to_thread(migrate.upgrade, url)
    worker_env["ALLIANCE_DATABASE_URL"] = url
    worker_env["ALLIANCE_INDICATORS_EXPIRE_EVERY_SECONDS"] = "1"
    for key in list(os.environ):
        if key.startswith("ALLIANCE_") and not key.startswith("ALLIANCE_TEST_"):
            monkeypatch.delenv(key)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    async with unit_of_work(sessions) as s:
        await seed(s)
    async with unit_of_work(sessions) as s:
        acme = await orgs_repo.organisation_by_slug(s, "acme-motors")
        [result] = await service.submit(
            s,
            await service.viewer_of_organisation(s, acme.id),
            [submission(valid_until=utcnow() + timedelta(seconds=1))],
        )
        assertion_id = result.assertion.id

    proc = start_worker(worker_env, tmp_path)
    status = AssertionStatus.ACTIVE
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            async with sessions() as s:
                status = await s.scalar(
                    select(IndicatorAssertion.status).where(IndicatorAssertion.id == assertion_id)
                )
            if status == AssertionStatus.EXPIRED:
                break
            await asyncio.sleep(0.3)
    finally:
        output = stop_worker(proc)
    try:
        assert status == AssertionStatus.EXPIRED, f"not expired; the worker said:\n{output}"
        async with sessions() as s:
            rows = list(
                await s.scalars(
                    select(ChangeLogEntry)
                    .where(ChangeLogEntry.object_id == str(assertion_id))
                    .order_by(ChangeLogEntry.seq)
                )
            )
        assert [(r.operation, r.version) for r in rows] == [
            (Operation.CREATE, 1),
            (Operation.UPDATE, 2),
        ]
    finally:
        await engine.dispose()
