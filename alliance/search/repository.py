"""The search indexer's SQL: its cursor in ``consumer_cursor``, and what it reads of the log."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.changelog.models import ChangeLogEntry, ConsumerCursor
from alliance.db import utcnow


async def lock_cursor(
    session: AsyncSession, name: str, *, wait: bool = False
) -> ConsumerCursor | None:
    """The cursor, locked for this transaction (created at 0 if absent). On PostgreSQL a row
    lock: with ``wait`` it waits for the holder, otherwise it answers None when another
    transaction holds it (``SKIP LOCKED``), so two indexers never drain one batch at once.
    SQLite serialises writers by itself."""
    stmt = select(ConsumerCursor).where(ConsumerCursor.name == name)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=not wait)
    cursor = await session.scalar(stmt)
    if cursor is not None:
        return cursor
    exists = await session.scalar(select(ConsumerCursor.name).where(ConsumerCursor.name == name))
    if exists is not None:
        return None  # locked by another indexer
    cursor = ConsumerCursor(name=name, seq=0)
    session.add(cursor)
    await session.flush()
    return cursor


async def touched_after(
    session: AsyncSession, cursor: int, limit: int
) -> list[tuple[int, str, str]]:
    """``(seq, kind, object id)`` of the committed changes after ``cursor``, in sequence order:
    all the indexer needs of a change, read as plain rows (the indexer's hot path; loading
    whole log entries as objects costs more than the rest of its reading)."""
    rows = await session.execute(
        select(ChangeLogEntry.seq, ChangeLogEntry.kind, ChangeLogEntry.object_id)
        .where(ChangeLogEntry.seq > cursor)
        .order_by(ChangeLogEntry.seq)
        .limit(limit)
    )
    return [(seq, kind, object_id) for seq, kind, object_id in rows]


async def read_cursor(session: AsyncSession, name: str) -> ConsumerCursor | None:
    return await session.scalar(select(ConsumerCursor).where(ConsumerCursor.name == name))


async def set_cursor(session: AsyncSession, name: str, seq: int) -> None:
    """Move the cursor to ``seq`` (creating it) and clear its error."""
    cursor = await read_cursor(session, name)
    if cursor is None:
        session.add(ConsumerCursor(name=name, seq=seq))
        await session.flush()
        return
    await session.execute(
        update(ConsumerCursor)
        .where(ConsumerCursor.name == name)
        .values(seq=seq, last_error=None, updated_at=utcnow())
    )


async def record_error(session: AsyncSession, name: str, error: str) -> None:
    cursor = await read_cursor(session, name)
    if cursor is None:
        session.add(ConsumerCursor(name=name, seq=0, last_error=error[:2000]))
        await session.flush()
        return
    await session.execute(
        update(ConsumerCursor)
        .where(ConsumerCursor.name == name)
        .values(last_error=error[:2000], updated_at=utcnow())
    )
