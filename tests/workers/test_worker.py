"""Background jobs: queued in the transaction, sent after commit, run by a real Celery worker."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from alliance import migrate
from alliance.config import load_settings
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.jobs import SENDER_KEY, NoJobSender, enqueue, pending_jobs
from alliance.system.models import WorkerHeartbeat
from tests.conftest import BROKER_URL, NO_BROKER, NO_PG, PG_URL, create_fresh_database
from workers.celery_app import QUEUES, CeleryJobSender, make_celery


async def test_jobs_are_sent_after_commit_and_dropped_on_rollback(sessions, job_sender) -> None:
    with pytest.raises(RuntimeError):
        async with unit_of_work(sessions) as s:
            enqueue(s, "system.heartbeat", worker="never")
            assert [j.kwargs for j in pending_jobs(s)] == [{"worker": "never"}]
            assert job_sender.sent == []
            raise RuntimeError("roll back")
    assert job_sender.sent == []
    async with unit_of_work(sessions) as s:
        enqueue(s, "system.heartbeat", worker="once")
        assert job_sender.sent == [], "a job must not leave before its transaction commits"
    assert [(j.name, j.kwargs) for j in job_sender.sent] == [
        ("system.heartbeat", {"worker": "once"})
    ]


async def test_queueing_without_a_sender_fails_loudly(engine) -> None:
    async with make_sessionmaker(engine)() as s:
        with pytest.raises(NoJobSender):
            enqueue(s, "system.heartbeat")


PROFILES = [
    pytest.param("embedded", "sqlite", id="embedded-broker-sqlite"),
    pytest.param(
        "redis",
        "postgresql",
        id="redis-postgresql",
        marks=[
            pytest.mark.skipif(not BROKER_URL, reason=NO_BROKER),
            pytest.mark.skipif(not PG_URL, reason=NO_PG),
        ],
    ),
]


@pytest.fixture
def worker_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ALLIANCE_") or k.startswith("ALLIANCE_TEST_")
    }
    env.update(
        ALLIANCE_DATA_DIR=str(tmp_path / "var"),
        ALLIANCE_LOG_FORMAT="text",
        ALLIANCE_WORKER_HEARTBEAT_SECONDS="1",
    )
    return env


def start_worker(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "alliance.cli", "worker", "--beat", "--loglevel", "WARNING"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def stop_worker(proc: subprocess.Popen[bytes]) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out.decode(errors="replace")


@pytest.mark.parametrize(("broker", "backend_name"), PROFILES)
async def test_a_real_worker_runs_committed_jobs_only_and_beat_schedules_heartbeats(
    broker: str,
    backend_name: str,
    tmp_path: Path,
    worker_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, drop = await create_fresh_database(backend_name, tmp_path)
    await asyncio.to_thread(migrate.upgrade, url)
    worker_env["ALLIANCE_DATABASE_URL"] = url
    if broker == "redis":
        assert BROKER_URL
        worker_env["ALLIANCE_BROKER_URL"] = BROKER_URL
    for key, value in worker_env.items():
        if key.startswith("ALLIANCE_"):
            monkeypatch.setenv(key, value)
    for key in list(os.environ):
        if key.startswith("ALLIANCE_") and key not in worker_env:
            monkeypatch.delenv(key)
    settings = load_settings()
    celery = make_celery(settings)
    if broker == "redis":
        with celery.connection_for_write() as conn:
            for queue in QUEUES:
                conn.default_channel.queue_purge(queue)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine, **{SENDER_KEY: CeleryJobSender(celery)})
    proc = start_worker(worker_env, tmp_path)
    try:
        with pytest.raises(RuntimeError):
            async with unit_of_work(sessions) as s:
                enqueue(s, "system.heartbeat", worker="rolled-back")
                raise RuntimeError("roll back")
        async with unit_of_work(sessions) as s:
            enqueue(s, "system.heartbeat", worker="committed")

        names: set[str] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            async with sessions() as s:
                names = set(await s.scalars(select(WorkerHeartbeat.worker)))
            # "committed" is ours; any other name is beat's periodic heartbeat.
            if "committed" in names and names - {"committed", "rolled-back"}:
                break
            await asyncio.sleep(0.3)
    finally:
        output = stop_worker(proc)
        await engine.dispose()
        if drop:
            await drop()
    assert "committed" in names, f"the worker did not run the committed job; worker said:\n{output}"
    assert names - {"committed", "rolled-back"}, (
        f"beat never scheduled a heartbeat; worker said:\n{output}"
    )
    assert "rolled-back" not in names, "a job queued in a rolled-back transaction was run"
