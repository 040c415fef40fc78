from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.db import utcnow
from alliance.system.models import WorkerHeartbeat


async def record_heartbeat(session: AsyncSession, worker: str) -> WorkerHeartbeat:
    beat = await session.get(WorkerHeartbeat, worker)
    if beat is None:
        beat = WorkerHeartbeat(worker=worker, beats=0)
        session.add(beat)
    beat.beats += 1
    beat.last_seen = utcnow()
    await session.flush()
    return beat


async def last_heartbeat(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(func.max(WorkerHeartbeat.last_seen)))


async def heartbeats(session: AsyncSession) -> list[WorkerHeartbeat]:
    return list(await session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.worker)))
