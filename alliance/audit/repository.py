"""All SQL of the audit log. The write path is synchronous: it runs inside the commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from alliance.audit.chain import GENESIS_HASH
from alliance.audit.models import AuditEntry
from alliance.db import insert_rows
from alliance.pagination import Page

# Any constant works, as long as it differs from the change log's and every writer uses it.
AUDIT_LOG_LOCK_KEY = 0x41756474


def lock_chain_head(session: Session) -> None:
    """Serialise chain writers until this transaction ends, before the head is read.

    PostgreSQL: a transaction-level advisory lock. SQLite: a write that changes nothing
    still takes the database's write lock now, so no other writer can commit between our
    read of the head and our insert.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOG_LOCK_KEY})
    else:
        session.execute(update(AuditEntry).where(AuditEntry.seq < 0).values(seq=AuditEntry.seq))


def chain_head(session: Session) -> tuple[int, str]:
    """The newest entry's ``(seq, entry_hash)``, or ``(0, GENESIS_HASH)`` for an empty log."""
    row = session.execute(
        select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    return (row[0], row[1]) if row else (0, GENESIS_HASH)


def insert_entries(session: Session, rows: list[dict[str, Any]]) -> None:
    insert_rows(session, AuditEntry.__table__, rows)


@dataclass(frozen=True, slots=True)
class EntryFilter:
    organisation_id: uuid.UUID | None = None  # None: every organisation's entries
    actions: tuple[str, ...] = ()


def _conditions(entry_filter: EntryFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if entry_filter.organisation_id is not None:
        conditions.append(AuditEntry.organisation_id == entry_filter.organisation_id)
    if entry_filter.actions:
        conditions.append(AuditEntry.action.in_(entry_filter.actions))
    return conditions


async def page_newest_first(
    session: AsyncSession, entry_filter: EntryFilter, *, before: int | None, limit: int
) -> Page[AuditEntry]:
    stmt = select(AuditEntry).where(*_conditions(entry_filter))
    if before is not None:
        stmt = stmt.where(AuditEntry.seq < before)
    rows = list(await session.scalars(stmt.order_by(AuditEntry.seq.desc()).limit(limit + 1)))
    return Page(
        items=rows[:limit], has_next_page=len(rows) > limit, has_previous_page=before is not None
    )


async def count(session: AsyncSession, entry_filter: EntryFilter) -> int:
    stmt = select(func.count()).select_from(AuditEntry).where(*_conditions(entry_filter))
    return int(await session.scalar(stmt) or 0)


async def head_seq(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0))) or 0)


async def chain_slice(
    session: AsyncSession, *, after: int, up_to: int, limit: int
) -> Sequence[Row[Any]]:
    """Entries with ``after < seq <= up_to`` in order, at most ``limit`` of them, as plain
    rows (attributes named like the columns): a long chain never fills the identity map."""
    result = await session.execute(
        select(*AuditEntry.__table__.columns)
        .where(AuditEntry.seq > after, AuditEntry.seq <= up_to)
        .order_by(AuditEntry.seq)
        .limit(limit)
    )
    return result.all()


async def count_up_to(session: AsyncSession, up_to: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.seq <= up_to)
        )
        or 0
    )
