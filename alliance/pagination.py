"""Keyset pagination shared by every list: stable under inserts, no OFFSET scans."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    has_next_page: bool
    has_previous_page: bool


async def keyset_page(
    session: AsyncSession,
    stmt: Select[Any],
    key: InstrumentedAttribute[Any],
    *,
    after: Any | None,
    limit: int,
) -> Page[Any]:
    """Rows of ``stmt`` ordered by the unique column ``key``, the ``limit`` after ``after``."""
    if after is not None:
        stmt = stmt.where(key > after)
    rows = list((await session.scalars(stmt.order_by(key).limit(limit + 1))).all())
    return Page(
        items=rows[:limit], has_next_page=len(rows) > limit, has_previous_page=after is not None
    )


async def count(session: AsyncSession, stmt: Select[Any]) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    )
