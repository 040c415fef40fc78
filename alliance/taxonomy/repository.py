"""All SQL of the taxonomy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.taxonomy.models import PlatformCategory, TaxonomyCategory, TaxonomySource

BATCH = 1000


async def category_ids(session: AsyncSession) -> set[int]:
    return set(await session.scalars(select(TaxonomyCategory.id)))


async def insert_categories(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        await session.execute(insert(TaxonomyCategory), list(rows[start : start + BATCH]))


async def update_categories(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    for row in rows:
        await session.execute(
            update(TaxonomyCategory)
            .where(TaxonomyCategory.id == row["id"])
            .values({k: v for k, v in row.items() if k != "id"})
        )


async def categories_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[TaxonomyCategory]:
    found: list[TaxonomyCategory] = []
    for start in range(0, len(ids), BATCH):
        chunk = list(ids[start : start + BATCH])
        found += await session.scalars(
            select(TaxonomyCategory).where(TaxonomyCategory.id.in_(chunk))
        )
    return found


async def all_parents(session: AsyncSession) -> list[tuple[int, int | None]]:
    rows = await session.execute(select(TaxonomyCategory.id, TaxonomyCategory.parent_id))
    return [(r[0], r[1]) for r in rows]


async def count_categories(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(TaxonomyCategory)) or 0)


async def replace_platform_map(
    session: AsyncSession, platform: str, rows: Sequence[tuple[str, int]]
) -> None:
    await session.execute(delete(PlatformCategory).where(PlatformCategory.platform == platform))
    values = [
        {"platform": platform, "platform_category_id": pid, "category_id": cid} for pid, cid in rows
    ]
    for start in range(0, len(values), BATCH):
        await session.execute(insert(PlatformCategory), values[start : start + BATCH])


async def platform_maps(
    session: AsyncSession, platforms: Sequence[str] | None = None
) -> dict[tuple[str, str], int]:
    stmt = select(
        PlatformCategory.platform,
        PlatformCategory.platform_category_id,
        PlatformCategory.category_id,
    )
    if platforms is not None:
        stmt = stmt.where(PlatformCategory.platform.in_(platforms))
    return {(r[0], r[1]): r[2] for r in await session.execute(stmt)}


async def source(session: AsyncSession, key: str) -> TaxonomySource | None:
    return await session.get(TaxonomySource, key)
