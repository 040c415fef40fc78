"""Readiness: the database must answer; search, broker and workers are reported."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alliance import migrate
from alliance.changelog import service as changelog
from alliance.config import Settings
from alliance.db import utcnow
from alliance.system import service as system


@dataclass
class Readiness:
    ready: bool
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)


async def check_database(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    try:
        async with sessions() as session:
            await session.execute(text("SELECT 1"))
            revision = (
                await session.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar()
            head = await changelog.head(session)
            beat = await system.last_heartbeat(session)
    except Exception as exc:  # any failure means "not ready"; the reason is reported
        return {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]}
    expected = migrate.current_head()
    result: dict[str, Any] = {
        "status": "ok" if revision == expected else "migrations_pending",
        "revision": revision,
        "expected_revision": expected,
        "change_log_head": head,
    }
    result["worker_heartbeat_age_seconds"] = _age(beat)
    return result


def _age(moment: datetime | None) -> float | None:
    return None if moment is None else round((utcnow() - moment).total_seconds(), 1)


def check_broker(settings: Settings, timeout: float = 2.0) -> dict[str, Any]:
    if settings.broker_url is None:
        folder = settings.broker_dir
        writable = folder.is_dir() and os.access(folder, os.W_OK)
        return {"status": "ok" if writable else "down", "kind": "embedded", "path": str(folder)}
    from kombu import Connection

    try:
        with Connection(settings.broker_url, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
        return {"status": "ok", "kind": settings.broker_url.split("://", 1)[0]}
    except Exception as exc:  # reported, not raised: the API still serves reads without a broker
        return {
            "status": "down",
            "kind": settings.broker_url.split("://", 1)[0],
            "error": str(exc)[:300],
        }


async def readiness(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], search_status: Any
) -> Readiness:
    database, broker, search = await asyncio.gather(
        check_database(sessions), asyncio.to_thread(check_broker, settings), search_status()
    )
    return Readiness(
        ready=database.get("status") == "ok",
        checks={"database": database, "broker": broker, "search": search},
    )
