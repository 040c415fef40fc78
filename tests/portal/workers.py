"""Running a queued import job as the worker would, for a test's live server."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

from alliance.db import make_engine, make_sessionmaker
from alliance.indicators import importing
from alliance.jobs import SENDER_KEY
from tests.conftest import RecordingSender


def run_import_job(alliance: Any, job_id: uuid.UUID) -> Any:
    """``indicators.import_file``'s work, in a thread of its own (the caller may be inside
    another event loop, such as Playwright's)."""
    found: list[Any] = []

    async def main() -> None:
        engine = make_engine(alliance.settings.database_url)
        try:
            sessions = make_sessionmaker(engine, **{SENDER_KEY: RecordingSender()})
            found.append(
                await importing.run_import(
                    sessions, job_id, data_dir=alliance.settings.data_dir, chunk_size=2
                )
            )
        finally:
            await engine.dispose()

    thread = threading.Thread(target=lambda: asyncio.run(main()))
    thread.start()
    thread.join(60)
    assert found, "the import did not run"
    return found[0]


def in_transaction(alliance: Any, work: Any) -> Any:
    """``work(session)`` in one async transaction on the live server's database."""
    from alliance.db import unit_of_work

    found: list[Any] = []

    async def main() -> None:
        engine = make_engine(alliance.settings.database_url)
        try:
            sessions = make_sessionmaker(engine, **{SENDER_KEY: RecordingSender()})
            async with unit_of_work(sessions) as session:
                found.append(await work(session))
        finally:
            await engine.dispose()

    thread = threading.Thread(target=lambda: asyncio.run(main()))
    thread.start()
    thread.join(120)
    assert found, "the work did not complete"
    return found[0]
