"""Per-process state of a worker: one event loop, one engine, one sessionmaker.

Celery runs tasks synchronously; our services are async. Each worker process keeps one
``asyncio.Runner`` for its lifetime (built lazily in the process that runs tasks, so
after any fork), and its engine lives on that loop.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from celery import Celery
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from alliance.config import Settings
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.jobs import SENDER_KEY
from workers.celery_app import CeleryJobSender

T = TypeVar("T")


@dataclass
class WorkerRuntime:
    pid: int
    runner: asyncio.Runner
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


_runtime: WorkerRuntime | None = None


def runtime(app: Celery) -> WorkerRuntime:
    global _runtime
    if _runtime is None or _runtime.pid != os.getpid():
        settings: Settings = app.conf.alliance_settings
        runner = asyncio.Runner()
        engine = runner.run(_make_engine(settings))
        sessions = make_sessionmaker(engine, **{SENDER_KEY: CeleryJobSender(app)})
        _runtime = WorkerRuntime(os.getpid(), runner, engine, sessions)
    return _runtime


async def _make_engine(settings: Settings) -> AsyncEngine:
    return make_engine(settings.database_url, pool_size=2)


def run_in_transaction(app: Celery, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one unit of work on this process's loop: the task's single commit."""
    rt = runtime(app)

    async def _go() -> T:
        async with unit_of_work(rt.sessions) as session:
            return await work(session)

    return rt.runner.run(_go())


def shutdown() -> None:
    global _runtime
    if _runtime is not None and _runtime.pid == os.getpid():
        _runtime.runner.run(_runtime.engine.dispose())
        _runtime.runner.close()
    _runtime = None
