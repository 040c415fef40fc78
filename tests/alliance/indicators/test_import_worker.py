"""The import end to end: the CLI queues it, a real Celery worker runs it, the CLI follows it."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from alliance import migrate
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.demo import seed
from tests.alliance.indicators.test_import import HEADER, mixed_rows, write_csv
from tests.conftest import BROKER_URL, NO_BROKER, NO_PG, PG_URL, create_fresh_database
from tests.workers.test_worker import stop_worker
from workers.celery_app import QUEUES, make_celery

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


def cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alliance.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )


def start_import_worker(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "alliance.cli", "worker", "--queues", "imports",
         "--loglevel", "WARNING"],
        env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


@pytest.mark.parametrize(("broker", "backend_name"), PROFILES)
async def test_the_cli_queues_a_worker_imports_and_the_same_file_again_changes_nothing(
    broker: str, backend_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, drop = await create_fresh_database(backend_name, tmp_path)
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url)
    async with unit_of_work(make_sessionmaker(engine)) as s:
        await seed(s)
    await engine.dispose()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ALLIANCE_") or k.startswith("ALLIANCE_TEST_")
    }
    env.update(
        ALLIANCE_DATA_DIR=str(tmp_path / "var"),
        ALLIANCE_LOG_FORMAT="text",
        ALLIANCE_DATABASE_URL=url,
    )
    if broker == "redis":
        assert BROKER_URL
        env["ALLIANCE_BROKER_URL"] = BROKER_URL
        for key, value in env.items():
            if key.startswith("ALLIANCE_"):
                monkeypatch.setenv(key, value)
        from alliance.config import load_settings

        with make_celery(load_settings()).connection_for_write() as conn:
            for queue in QUEUES:
                conn.default_channel.queue_purge(queue)
    rows, bad = mixed_rows(300)
    path = write_csv(tmp_path / "indicators.csv", rows)
    worker = start_import_worker(env, tmp_path)
    try:
        args = ["indicators", "import", str(path), "--org", "acme-motors"]
        first = cli(env, tmp_path, *args, "--working-group", "automotive-parts", "--json")
        again = cli(env, tmp_path, *args, "--working-group", "automotive-parts", "--no-follow")
        exported = cli(env, tmp_path, "indicators", "export", "--org", "acme-motors")
        jsonl = cli(env, tmp_path, "indicators", "export", "--org", "city-police",
                    "--format", "jsonl", "--status", "ACTIVE")  # fmt: skip
    finally:
        output = stop_worker(worker)
        if drop:
            await drop()

    assert first.returncode == 0, f"{first.stderr}\nworker said:\n{output}"
    job = json.loads(first.stdout)
    assert (job["state"], job["rows_total"], job["rows_done"]) == ("DONE", 300, 300)
    assert job["rows_failed"] == len(bad) == 30
    assert {e["line"] for e in job["errors"]} == set(bad)
    assert again.returncode == 0, again.stderr
    assert "already imported" in again.stderr
    assert again.stdout.strip() == job["job_id"]
    assert exported.returncode == 0, exported.stderr
    exported_rows = list(csv.DictReader(exported.stdout.splitlines()))
    # 270 good rows, one assertion each (one shop per row).
    assert len(exported_rows) == 270
    assert set(HEADER) - {"platform", "carrier"} <= set(exported_rows[0])
    # city-police sits in automotive-parts: it sees acme's WORKING_GROUP assertions there.
    assert jsonl.returncode == 0, jsonl.stderr
    assert len(jsonl.stdout.splitlines()) == 270
    assert {json.loads(line)["organisation"] for line in jsonl.stdout.splitlines()} == {
        "acme-motors"
    }
