"""``alliance blobs gc``, run for real in a child process against the demo (its guide photos and
case evidence are referenced files) plus files no row refers to."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from alliance.blobs.storage import blob_key
from tests.conftest import BACKENDS, create_fresh_database
from tests.test_cli import Cli, clean_env


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def plant(path: Path, data: bytes, *, age: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    moment = time.time() - age
    os.utime(path, (moment, moment))
    return path


@pytest.fixture(scope="module", params=BACKENDS)
async def cli(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cli]:
    tmp = tmp_path_factory.mktemp(f"gc-{request.param}")
    data_dir = tmp / "var"
    if request.param == "sqlite":
        url, drop = f"sqlite+aiosqlite:///{data_dir / 'alliance.db'}", None
        env = clean_env(data_dir)
    else:
        url, drop = await create_fresh_database("postgresql", tmp)
        env = clean_env(data_dir, ALLIANCE_DATABASE_URL=url)
    harness = Cli(cwd=tmp, env=env, database_url=url)
    try:
        await asyncio.to_thread(harness.ok, "db", "upgrade")
        await asyncio.to_thread(harness.ok, "demo")
        yield harness
    finally:
        if drop is not None:
            await drop()


async def test_gc_removes_old_orphans_only_and_prints_the_counts(cli: Cli) -> None:
    blobs, evidence = cli.data_dir / "blobs", cli.data_dir / "evidence"
    demo_blobs, demo_evidence = files_under(blobs), files_under(evidence)
    assert demo_blobs, "the demo stores guide photos"
    assert demo_evidence, "the demo stores case evidence"
    for path in [*demo_blobs, *demo_evidence]:  # as old as the orphans: kept for their rows
        plant(path, path.read_bytes(), age=3 * 3600)
    lost = hashlib.sha256(b"an upload whose transaction rolled back").hexdigest()
    young = hashlib.sha256(b"an upload still in its transaction").hexdigest()
    receipt = hashlib.sha256(b"a receipt whose mutation failed").hexdigest()
    orphan = plant(blobs / blob_key(lost), b"x" * 1000, age=2 * 3600)
    in_flight = plant(blobs / blob_key(young), b"y" * 10, age=60)
    orphan_evidence = plant(evidence / receipt[:2] / receipt, b"z" * 24, age=2 * 3600)
    examined = len(demo_blobs) + len(demo_evidence) + 3

    dry = await asyncio.to_thread(cli, "blobs", "gc", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        f"would remove blobs/{blob_key(lost)} (1000 bytes)",
        f"would remove evidence/{receipt[:2]}/{receipt} (24 bytes)",
        f"{examined} examined, {examined - 3} referenced, 1 within the 3600s grace period; "
        "would remove 2 (1024 bytes to free)",
    ]
    assert "examining" in dry.stderr  # the progress bar
    assert orphan.is_file()
    assert orphan_evidence.is_file()

    done = await asyncio.to_thread(cli, "blobs", "gc", "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert (body["dry_run"], body["examined"], body["referenced"], body["within_grace"]) == (
        False,
        examined,
        examined - 3,
        1,
    )
    assert sorted((r["store"], r["key"], r["reason"]) for r in body["removed"]) == [
        ("blobs", blob_key(lost), "UNREFERENCED"),
        ("evidence", f"{receipt[:2]}/{receipt}", "UNREFERENCED"),
    ]
    assert body["bytes_freed"] == 1024
    assert not orphan.exists()
    assert not orphan_evidence.exists()
    assert in_flight.is_file()
    assert files_under(blobs) == sorted([*demo_blobs, in_flight])
    assert files_under(evidence) == demo_evidence

    shorter = await asyncio.to_thread(cli, "blobs", "gc", "--grace", "60")
    assert shorter.returncode == 0, shorter.stderr
    assert f"removed blobs/{blob_key(young)} (10 bytes)" in shorter.stdout
    assert shorter.stdout.splitlines()[-1].endswith("removed 1 (10 bytes freed)")
    assert files_under(blobs) == demo_blobs


@pytest.mark.parametrize("flags", [[], ["--json"], ["--dry-run"]])
def test_gc_refuses_an_s3_store_plainly(cli: Cli, flags: list[str]) -> None:
    result = cli(
        "blobs",
        "gc",
        *flags,
        ALLIANCE_BLOBS_URL="s3://guide-photos",
        ALLIANCE_BLOBS_S3_ENDPOINT="https://s3.eu-west-1.amazonaws.com",
        ALLIANCE_BLOBS_S3_ACCESS_KEY_ID="id",
        ALLIANCE_BLOBS_S3_SECRET_ACCESS_KEY="secret",
    )
    assert result.returncode == 2
    assert "supports the filesystem blob store only" in result.stderr
    assert "nothing was removed" in result.stderr


def test_gc_refuses_a_grace_period_too_short_for_uploads_in_flight(cli: Cli) -> None:
    result = cli("blobs", "gc", "--grace", "5")
    assert result.returncode == 2
    assert "--grace" in result.stderr
