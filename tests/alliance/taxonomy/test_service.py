"""Importing the tree and platform maps on both databases, with their change-log rows."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.changelog.models import ChangeLogEntry
from alliance.errors import Forbidden, InvalidInput
from alliance.taxonomy import repository as repo
from alliance.taxonomy.service import import_taxonomy, map_platform_categories
from alliance.taxonomy.tree import PlatformCategory, packaged_taxonomy_lines, parse_taxonomy
from tests.alliance.rules.builders import principal_for


async def _rows(session: AsyncSession, kind: str) -> list[ChangeLogEntry]:
    return list(await session.scalars(select(ChangeLogEntry).where(ChangeLogEntry.kind == kind)))


async def test_import_is_idempotent_and_logged_once_per_import(session: AsyncSession) -> None:
    categories = parse_taxonomy(packaged_taxonomy_lines())
    first = await import_taxonomy(session, None, categories)
    assert (first.created, first.version) == (5595, 1)
    again = await import_taxonomy(session, None, categories)
    assert (again.created, again.updated, again.unchanged, again.version) == (0, 0, 5595, 2)
    renamed = parse_taxonomy(["1 - Animals", "3237 - Animals > Live Animals"])
    third = await import_taxonomy(session, None, renamed)
    assert (third.updated, third.unchanged) == (2, 0)  # the child's full name changed too
    assert await repo.count_categories(session) == 5595  # nothing absent is dropped
    await session.commit()
    assert [r.version for r in await _rows(session, "taxonomy")] == [1, 2, 3]


async def test_platform_maps_are_replaced_and_checked(session: AsyncSession) -> None:
    await import_taxonomy(session, None, parse_taxonomy(packaged_taxonomy_lines()))
    report = await map_platform_categories(
        session, None, "ShopMart", [PlatformCategory("SM-1", 2977), PlatformCategory("SM-2", 899)]
    )
    assert report.created == 2
    report = await map_platform_categories(
        session, None, "shopmart", [PlatformCategory("SM-1", 899)]
    )
    assert (report.created, report.updated) == (0, 1)
    assert await repo.platform_maps(session, ["shopmart"]) == {("shopmart", "SM-1"): 899}
    with pytest.raises(InvalidInput) as caught:
        await map_platform_categories(
            session, None, "shopmart", [PlatformCategory("X", 999_999_999)]
        )
    assert caught.value.problems[0].path == ("mappings", "X")
    await session.commit()
    assert [r.object_id for r in await _rows(session, "platform_category_map")] == [
        "shopmart",
        "shopmart",
    ]


async def test_only_operators_import(session: AsyncSession, demo: dict[str, Any]) -> None:
    caller = principal_for(demo["orgs"]["shopmart"], "rules:write")
    with pytest.raises(Forbidden):
        await import_taxonomy(session, caller, parse_taxonomy(["1 - A"]))
    count = await session.scalar(select(func.count()).select_from(ChangeLogEntry))
    assert count is not None
