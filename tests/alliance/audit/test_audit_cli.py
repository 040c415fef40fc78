"""``alliance audit verify``, run for real in a child process against a database whose audit
rows the test edits and deletes by hand."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update

from alliance.audit.chain import GENESIS_HASH, entry_hash
from alliance.audit.cli import PROGRESS_BAR_FROM
from alliance.audit.models import AuditEntry
from alliance.db import make_engine
from tests.conftest import BACKENDS, create_fresh_database

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Cli:
    env: dict[str, str]
    cwd: Path
    url: str

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "alliance.cli", *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.returncode == 0, f"alliance {' '.join(args)}:\n{result.stderr}"
        return result.stdout

    async def execute(self, statement: Any) -> None:
        engine = make_engine(self.url)
        try:
            async with engine.begin() as conn:
                await conn.execute(statement)
        finally:
            await engine.dispose()

    async def row(self, seq: int) -> dict[str, Any]:
        engine = make_engine(self.url)
        try:
            async with engine.connect() as conn:
                found = (
                    await conn.execute(select(AuditEntry.__table__).where(AuditEntry.seq == seq))
                ).one()
                return dict(found._mapping)
        finally:
            await engine.dispose()


def environment(tmp: Path, url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ALLIANCE_") or k.startswith("ALLIANCE_TEST_")
    }
    return env | {
        "ALLIANCE_DATA_DIR": str(tmp / "var"),
        "ALLIANCE_DATABASE_URL": url,
        "COLUMNS": "200",
        "NO_COLOR": "1",
        "PYTHONPATH": str(ROOT),
    }


@pytest.fixture(scope="module", params=BACKENDS)
async def cli(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cli]:
    """A database after ``db upgrade`` and ``demo``, whose writes filled the audit log."""
    tmp = tmp_path_factory.mktemp(f"audit-cli-{request.param}")
    url, drop = await create_fresh_database(request.param, tmp)
    runner = Cli(environment(tmp, url), tmp, url)
    try:
        await asyncio.to_thread(runner.ok, "db", "upgrade")
        await asyncio.to_thread(runner.ok, "demo")
        yield runner
    finally:
        if drop:
            await drop()


def verify(cli: Cli) -> tuple[int, dict[str, Any]]:
    result = cli("audit", "verify", "--json")
    return result.returncode, json.loads(result.stdout)


async def test_a_whole_chain_verifies(cli: Cli) -> None:
    result = await asyncio.to_thread(cli, "audit", "verify")
    code, report = await asyncio.to_thread(verify, cli)

    assert result.returncode == 0, result.stderr
    assert code == 0
    entries = report["entries"]
    assert entries >= 10  # organisations, groups and seats of the demo
    assert report == {
        "intact": True,
        "entries": entries,
        "verified": entries,
        "head": {"seq": entries, "entry_hash": report["head"]["entry_hash"]},
        "broken": None,
    }
    last = await cli.row(entries)
    assert report["head"]["entry_hash"] == last["entry_hash"] == entry_hash(AuditRow(**last))
    assert result.stdout == (
        f"audit log intact: {entries} entries, head seq {entries} entry_hash {last['entry_hash']}\n"
    )


async def test_a_hand_edited_entry_is_named(cli: Cli) -> None:
    original = await cli.row(4)
    await cli.execute(update(AuditEntry).where(AuditEntry.seq == 4).values(detail={"version": 99}))
    try:
        result = await asyncio.to_thread(cli, "audit", "verify")
        code, report = await asyncio.to_thread(verify, cli)
    finally:
        await cli.execute(
            update(AuditEntry).where(AuditEntry.seq == 4).values(detail=original["detail"])
        )

    assert result.returncode == 1
    assert "audit log broken at seq 4 (ALTERED)" in result.stderr
    assert "changed after it was written" in result.stderr
    assert result.stdout.startswith("3 of ")
    assert code == 1
    assert report["intact"] is False
    assert report["head"] is None
    assert report["verified"] == 3
    assert report["broken"]["seq"] == 4
    assert report["broken"]["problem"] == "ALTERED"
    assert (await asyncio.to_thread(verify, cli))[0] == 0, "restoring the row restores the chain"


async def test_a_deleted_middle_entry_is_named(cli: Cli) -> None:
    removed = await cli.row(6)
    await cli.execute(delete(AuditEntry).where(AuditEntry.seq == 6))
    try:
        result = await asyncio.to_thread(cli, "audit", "verify")
        code, report = await asyncio.to_thread(verify, cli)
    finally:
        await cli.execute(insert(AuditEntry).values(**removed))

    assert result.returncode == 1
    assert "audit log broken at seq 6 (MISSING): entry 6 is missing" in result.stderr
    assert "the chain goes from seq 5 to seq 7" in result.stderr
    assert code == 1
    assert report["broken"]["seq"] == 6
    assert report["broken"]["problem"] == "MISSING"
    assert (await asyncio.to_thread(verify, cli))[0] == 0


async def test_an_unmigrated_database_is_a_clear_error(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    result = await asyncio.to_thread(
        Cli(environment(tmp_path, url), tmp_path, url), "audit", "verify"
    )
    assert result.returncode == 2
    assert "cannot read the audit log" in result.stderr
    assert "is the database migrated?" in result.stderr


@dataclass
class AuditRow:
    seq: int
    occurred_at: datetime
    action: str
    outcome: str
    actor: str | None
    person_id: Any
    client_id: str | None
    organisation_id: Any
    target_kind: str | None
    target_id: str | None
    request_id: str | None
    detail: dict[str, Any]
    prev_hash: str
    entry_hash: str = ""


def long_chain(n: int) -> list[dict[str, Any]]:
    rows, prev = [], GENESIS_HASH
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for seq in range(1, n + 1):
        row = AuditRow(
            seq=seq,
            occurred_at=start + timedelta(milliseconds=seq),
            action="test.bulk",
            outcome="allowed",
            actor=None,
            person_id=None,
            client_id=None,
            organisation_id=None,
            target_kind=None,
            target_id=str(seq),
            request_id=None,
            detail={},
            prev_hash=prev,
        )
        row.entry_hash = prev = entry_hash(row)
        rows.append(asdict(row))
    return rows


async def test_a_long_chain_shows_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'long.db'}"
    cli = Cli(environment(tmp_path, url), tmp_path, url)
    await asyncio.to_thread(cli.ok, "db", "upgrade")
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(AuditEntry), long_chain(PROGRESS_BAR_FROM))
    finally:
        await engine.dispose()

    def run_on_a_terminal() -> tuple[int, str, str]:
        controller, terminal = pty.openpty()
        process = subprocess.Popen(
            [sys.executable, "-m", "alliance.cli", "audit", "verify"],
            cwd=tmp_path,
            env=cli.env,
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
        )
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed with the child
                break
            if not chunk:
                break
            shown += chunk
        os.close(controller)
        out = process.stdout.read() if process.stdout else ""
        return process.wait(timeout=120), out, shown.decode(errors="replace")

    code, out, terminal_output = await asyncio.to_thread(run_on_a_terminal)

    assert code == 0, terminal_output
    assert out.startswith(f"audit log intact: {PROGRESS_BAR_FROM} entries")
    assert "verifying" in terminal_output
    assert "100%" in terminal_output
    # Not on a pipe: scripts get the result alone.
    assert (await asyncio.to_thread(cli, "audit", "verify")).stderr == ""
