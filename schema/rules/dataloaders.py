"""Per-request loaders of the rules domain (one query per batch)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from alliance.rules import repository as repo
from alliance.rules.models import RuleVersion


class RuleLoaders:
    def __init__(self, session: AsyncSession) -> None:
        async def versions(ids: list[uuid.UUID]) -> list[list[RuleVersion]]:
            found = await repo.versions_of(session, ids)
            return [found.get(i, []) for i in ids]

        self.versions: DataLoader[uuid.UUID, list[RuleVersion]] = DataLoader(load_fn=versions)
