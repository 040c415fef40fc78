"""The SQL a full reindex of rules needs (every rule, not only those a viewer sees)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.rules.definition import RuleStatus
from alliance.rules.models import Rule


async def rule_ids_after(
    session: AsyncSession,
    after: uuid.UUID | None,
    limit: int,
    *,
    statuses: Sequence[RuleStatus],
) -> list[uuid.UUID]:
    stmt = select(Rule.id).where(Rule.status.in_(statuses)).order_by(Rule.id).limit(limit)
    if after is not None:
        stmt = stmt.where(Rule.id > after)
    return list(await session.scalars(stmt))
