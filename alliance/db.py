"""Engines, sessions and the declarative base shared by every domain."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Enum, MetaData, event, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_only

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both PostgreSQL and SQLite (which stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampedMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def new_id() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7), so ordering by id is ordering by creation."""
    millis = time.time_ns() // 1_000_000
    value = (millis & (2**48 - 1)) << 80 | int.from_bytes(os.urandom(10), "big") & (2**80 - 1)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # variant
    return uuid.UUID(int=value)


class AllianceSession(Session):
    """The sync session behind every AsyncSession; the change log and job buffer hook into it."""


def make_engine(
    url: str, *, pool_size: int = 10, echo: bool = False, sqlite_savepoints: bool = False
) -> AsyncEngine:
    """An async engine. On SQLite, ``sqlite_savepoints`` makes transactions begin at the first
    statement so SAVEPOINTs work (tests roll back per test that way); the default leaves the
    driver's behaviour, where a transaction begins at the first write and concurrent writers
    wait on the busy timeout instead of failing on a read-to-write lock upgrade."""
    kwargs: dict[str, Any] = {"echo": echo}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_size"] = pool_size
        kwargs["pool_pre_ping"] = True
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if sqlite_savepoints:
            event.listen(engine.sync_engine, "connect", _sqlite_driver_no_autobegin)
            event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def _sqlite_driver_no_autobegin(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_sessionmaker(
    bind: AsyncEngine | AsyncConnection, *, join_transaction_mode: Any = None, **info: Any
) -> async_sessionmaker[AsyncSession]:
    """Sessions on this engine (or connection, in tests); ``info`` (e.g. the job sender) is
    copied onto every session."""
    import alliance.models  # noqa: F401  registers every mapper and the session hooks

    extra: dict[str, Any] = {}
    if join_transaction_mode is not None:
        extra["join_transaction_mode"] = join_transaction_mode
    return async_sessionmaker(
        bind,
        expire_on_commit=False,
        sync_session_class=AllianceSession,
        info=info,
        **extra,
    )


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: commits once when the block ends, rolls back on any exception.

    Change-log rows are written inside the commit; jobs queued on the session are
    sent only after the commit succeeded (see ``alliance.jobs``).
    """
    async with sessions() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await commit(session)


async def commit(session: AsyncSession) -> None:
    """The one way to commit: change-log rows ride the commit, jobs are sent after it."""
    from alliance.jobs import send_pending_jobs

    await session.commit()
    await send_pending_jobs(session)


def copy_records(
    table: Any, rows: Sequence[dict[str, Any]]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """``rows`` of ``table`` as asyncpg's ``copy_records_to_table`` takes them: the column
    names and one tuple per row, each enum as the column stores it (its name or, where the
    column is declared with ``values_callable``, its value) and JSON as its text. Column by
    column: a column stored as it is costs no call per row."""
    columns = list(rows[0])
    values: list[list[Any]] = []
    for name in columns:
        column = [row[name] for row in rows]
        encode = _copy_encoder(table.c[name])
        values.append(column if encode is None else list(map(encode, column)))
    return columns, list(zip(*values, strict=True))


# From this many rows (a bulk import's chunk) asyncpg sessions write them by COPY on their own
# connection, inside the transaction: the multi-row INSERT cost ~50 us a row in the import.
COPY_FROM = 200


def insert_rows(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """``rows`` (each with the same columns) into ``table`` in a sync session's transaction
    (a commit hook's, run inside the async session's greenlet): by COPY on asyncpg from
    ``COPY_FROM`` rows, otherwise one multi-row INSERT."""
    connection = session.connection()
    if connection.dialect.driver != "asyncpg" or len(rows) < COPY_FROM:
        session.execute(insert(table), rows)
        return
    columns, records = copy_records(table, rows)
    driver = connection.connection.driver_connection
    await_only(
        driver.copy_records_to_table(  # type: ignore[union-attr]
            table.name, columns=columns, records=records
        )
    )


def _copy_encoder(column: Any) -> Any:
    """How a column's values are written by COPY; None: as they are."""
    if isinstance(column.type, JSON):
        return _json_text({})
    if isinstance(column.type, Enum) and column.type.enum_class is not None:
        stored = dict(zip(column.type.enum_class, column.type.enums, strict=True))
        return lambda v: None if v is None else stored.get(v, v)
    return None


def _json_text(seen: dict[tuple[str, ...], str]) -> Any:
    """JSON text of a column's values, each flat list of strings (tags, brands: repeated from
    row to row of a file) encoded once per call of :func:`copy_records`."""

    def encode(value: Any) -> str | None:
        if value is None:
            return None
        if type(value) is dict and not value:
            return "{}"
        if isinstance(value, list) and all(type(v) is str for v in value):
            key = tuple(value)
            text = seen.get(key)
            if text is None:
                text = seen[key] = json.dumps(value)
            return text
        return json.dumps(value)

    return encode
