"""Loaders of search hits whose domain has no per-viewer loader of its own (one query per page)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from alliance.rules import repository as rules_repo
from alliance.rules.models import Rule
from alliance.sharing.policy import Viewer


def visible_rules(session: AsyncSession, viewer: Viewer) -> DataLoader[uuid.UUID, Rule | None]:
    """Rules by id as the policy's SQL predicate lets ``viewer`` see them (None otherwise)."""

    async def load(ids: list[uuid.UUID]) -> list[Rule | None]:
        found = {r.id: r for r in await rules_repo.visible_rules_by_ids(session, viewer, ids)}
        return [found.get(i) for i in ids]

    return DataLoader(load_fn=load)
