"""A real Celery worker with beat delivers to a real receiver that is down for a while."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from alliance import migrate
from alliance.config import load_settings
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.demo import seed
from alliance.jobs import SENDER_KEY
from alliance.orgs import repository as orgs_repo
from alliance.webhooks.models import WebhookAttempt
from tests.alliance.webhooks.helpers import domain, submit, subscribe
from tests.alliance.webhooks.receiver import Receiver
from tests.conftest import RecordingSender, create_fresh_database
from tests.workers.test_worker import PROFILES, start_worker, stop_worker
from workers.celery_app import QUEUES, make_celery


@pytest.mark.parametrize(("broker", "backend_name"), PROFILES)
async def test_a_real_worker_delivers_everything_in_order_once_the_receiver_is_back(
    broker: str, backend_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import BROKER_URL

    url, drop = await create_fresh_database(backend_name, tmp_path)
    await asyncio.to_thread(migrate.upgrade, url)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ALLIANCE_") or k.startswith("ALLIANCE_TEST_")
    }
    env.update(
        ALLIANCE_DATA_DIR=str(tmp_path / "var"),
        ALLIANCE_LOG_FORMAT="text",
        ALLIANCE_DATABASE_URL=url,
        ALLIANCE_OUTBOUND_ALLOW_PRIVATE_HOSTS="true",
        ALLIANCE_WEBHOOKS_BACKOFF_BASE_SECONDS="0.2",
        ALLIANCE_WEBHOOKS_BACKOFF_CAP_SECONDS="0.5",
        ALLIANCE_WEBHOOKS_DISPATCH_INTERVAL_SECONDS="0.5",
        ALLIANCE_WEBHOOKS_BATCH_SIZE="2",
    )
    if broker == "redis":
        assert BROKER_URL
        env["ALLIANCE_BROKER_URL"] = BROKER_URL
        for key, value in env.items():
            if key.startswith("ALLIANCE_"):
                monkeypatch.setenv(key, value)
        with make_celery(load_settings()).connection_for_write() as conn:
            for queue in QUEUES:
                conn.default_channel.queue_purge(queue)

    engine = make_engine(url)
    sessions = make_sessionmaker(engine, **{SENDER_KEY: RecordingSender()})
    receiver = Receiver()  # not listening yet: connection refused
    proc = None
    try:
        async with unit_of_work(sessions) as s:
            await seed(s)
        async with sessions() as s:
            acme = await orgs_repo.organisation_by_slug(s, "acme-motors")
            auto = await orgs_repo.working_group_by_slug(s, "automotive-parts")
        assert acme is not None
        assert auto is not None
        created = await subscribe(sessions, acme, receiver.url)
        expected: list[str] = []
        for n in range(5):
            expected += await submit(
                sessions, acme, domain(f"worker-{n}.example", working_group_id=auto.id)
            )

        proc = start_worker(env, tmp_path)
        failed = 0
        deadline = time.monotonic() + 90
        while failed < 2 and time.monotonic() < deadline and proc.poll() is None:
            async with sessions() as s:
                failed = int(await s.scalar(select(func.count()).select_from(WebhookAttempt)) or 0)
            await asyncio.sleep(0.2)
        assert failed >= 2, "the worker never tried the receiver while it was down"

        receiver.start()
        got: list[dict[str, Any]] = []
        while time.monotonic() < deadline and proc.poll() is None:
            got = [c for c in receiver.changes() if c["kind"] == "indicator.assertion"]
            if len(got) >= len(expected):
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)  # a duplicate, were there one, would arrive by now
    finally:
        output = stop_worker(proc) if proc is not None else ""
        receiver.stop()
        await engine.dispose()
        if drop:
            await drop()
    lines = [c for c in receiver.changes() if c["kind"] == "indicator.assertion"]
    assert [c["id"] for c in lines] == expected, f"worker said:\n{output}"
    assert all(r.json["subscriptionId"] == str(created.subscription.id) for r in receiver.received)
    seqs = [c["seq"] for c in receiver.changes()]
    assert seqs == sorted(set(seqs))
