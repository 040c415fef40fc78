"""The embedded profile indexes by itself: a real worker and beat drain the change log into
the Tantivy index under the data dir, and catch up after the index was taken away."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest

from alliance import migrate
from alliance.config import load_settings
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.demo import seed
from search import indexer
from search.tantivy_backend import TantivyBackend, _open_index
from tests.conftest import create_fresh_database
from tests.search.test_indexer import add_organisations, cursor_row, database_documents
from tests.workers.test_worker import start_worker, stop_worker


async def wait_for(condition: Any, proc: Any, seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        if await condition():
            return True
        await asyncio.sleep(0.3)
    return False


async def test_a_real_worker_keeps_the_index_equal_to_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _drop = await create_fresh_database("sqlite", tmp_path)
    await asyncio.to_thread(migrate.upgrade, url)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ALLIANCE_") or k.startswith("ALLIANCE_TEST_")
    }
    env.update(
        ALLIANCE_DATA_DIR=str(tmp_path / "var"),
        ALLIANCE_DATABASE_URL=url,
        ALLIANCE_LOG_FORMAT="text",
        ALLIANCE_SEARCH_INDEX_INTERVAL_SECONDS="0.5",
    )
    for key in list(os.environ):
        if key.startswith("ALLIANCE_") and not key.startswith("ALLIANCE_TEST_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        if key.startswith("ALLIANCE_"):
            monkeypatch.setenv(key, value)
    settings = load_settings()
    backend = TantivyBackend(Path(settings.search_url.removeprefix("tantivy://")))
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    proc = start_worker(env, tmp_path)

    async def caught_up() -> bool:
        return await backend.versions() == await database_documents(sessions)

    try:
        async with unit_of_work(sessions) as s:
            await seed(s)
        assert await wait_for(caught_up, proc), "the worker never indexed the demo alliance"

        # Take the index away (another writer holds its lock) and keep writing.
        await backend.ensure_index()
        blocker = _open_index(backend.root / (backend._pointer() or "")).writer(
            heap_size=15_000_000, num_threads=1
        )
        try:
            await add_organisations(sessions, "while-away-one")

            async def failed() -> bool:
                row = await cursor_row(sessions)
                return row is not None and row.last_error is not None

            assert await wait_for(failed, proc), "the indexer did not notice the index was away"
            await add_organisations(sessions, "while-away-two")
            async with sessions() as s:
                state = await indexer.status(s, backend.name)
            assert state.lag > 0
        finally:
            blocker.rollback()
            blocker.wait_merging_threads()
        assert await wait_for(caught_up, proc), "the index did not catch up after it returned"

        async def healthy() -> bool:
            row = await cursor_row(sessions)
            return row is not None and row.last_error is None

        # A run that failed while the index was away may record its error after a later run
        # caught up; the next run, finding nothing to do, clears it.
        assert await wait_for(healthy, proc), "the indexer kept an error after catching up"
    finally:
        output = stop_worker(proc)
        await engine.dispose()
    assert proc.returncode is not None, output
