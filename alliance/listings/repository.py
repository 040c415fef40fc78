"""All SQL the listing matcher runs: it reads rules, the taxonomy and indicators in bulk."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.indicators.models import (
    AllowlistEntry,
    AssertionStatus,
    Indicator,
    IndicatorAssertion,
    IndicatorLink,
    IndicatorMatchKey,
    IndicatorReaction,
)

BATCH = 5000

ASSERTION_COLUMNS = (
    IndicatorAssertion.id,
    IndicatorAssertion.indicator_id,
    Indicator.type,
    Indicator.value,
    IndicatorAssertion.owner_org_id,
    IndicatorAssertion.working_group_id,
    IndicatorAssertion.distribution,
    IndicatorAssertion.tlp,
    IndicatorAssertion.score,
    IndicatorAssertion.brands,
    IndicatorAssertion.valid_until,
)


async def active_assertions(
    session: AsyncSession, ids: Sequence[uuid.UUID] | None = None
) -> AsyncIterator[list[Any]]:
    """Active assertions with their indicator's type and value, in batches (all, or ``ids``)."""
    stmt = (
        select(*ASSERTION_COLUMNS)
        .join(Indicator, Indicator.id == IndicatorAssertion.indicator_id)
        .where(IndicatorAssertion.status == AssertionStatus.ACTIVE)
    )
    if ids is not None:
        stmt = stmt.where(IndicatorAssertion.id.in_(ids))
    result = await session.stream(stmt.execution_options(yield_per=BATCH))
    async for partition in result.partitions(BATCH):
        yield list(partition)


async def match_keys(
    session: AsyncSession, indicator_ids: Sequence[uuid.UUID] | None = None
) -> dict[uuid.UUID, list[tuple[str, str]]]:
    stmt = select(IndicatorMatchKey.indicator_id, IndicatorMatchKey.name, IndicatorMatchKey.value)
    if indicator_ids is not None:
        stmt = stmt.where(IndicatorMatchKey.indicator_id.in_(indicator_ids))
    found: dict[uuid.UUID, list[tuple[str, str]]] = {}
    for row in await session.execute(stmt):
        found.setdefault(row[0], []).append((row[1], row[2]))
    return found


async def links(
    session: AsyncSession, assertion_ids: Sequence[uuid.UUID] | None = None
) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    stmt = select(IndicatorLink.source_id, IndicatorLink.target_id, IndicatorLink.reason)
    if assertion_ids is not None:
        stmt = stmt.where(
            or_(
                IndicatorLink.source_id.in_(assertion_ids),
                IndicatorLink.target_id.in_(assertion_ids),
            )
        )
    return [
        (r[0], r[1], str(r[2].value if hasattr(r[2], "value") else r[2]))
        for r in await session.execute(stmt)
    ]


async def assertion_ids_of_reactions(
    session: AsyncSession, reaction_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    return list(
        await session.scalars(
            select(IndicatorReaction.assertion_id).where(IndicatorReaction.id.in_(reaction_ids))
        )
    )


async def allowlist_entries(
    session: AsyncSession, ids: Sequence[uuid.UUID] | None = None
) -> list[AllowlistEntry]:
    stmt = select(AllowlistEntry)
    if ids is not None:
        stmt = stmt.where(AllowlistEntry.id.in_(ids))
    return list(await session.scalars(stmt))
