"""Per-request batch loaders: every nested field costs one query per level, never one per row."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from alliance.auth.principal import Principal
from alliance.orgs import repository as orgs_repo
from alliance.orgs.models import Membership, Organisation, Person, WorkingGroup
from alliance.sharing.policy import Viewer
from alliance.sharing.service import load_viewer
from schema.cases.dataloaders import CaseLoaders
from schema.indicators.dataloaders import IndicatorLoaders
from schema.rules.dataloaders import RuleLoaders

T = TypeVar("T")

# (owner id, after membership id, limit) -> (memberships, total for that owner)
WindowKey = tuple[uuid.UUID, uuid.UUID | None, int]
Window = tuple[list[Membership], int]


def _by_id(
    session: AsyncSession,
    fetch: Callable[[AsyncSession, Sequence[uuid.UUID]], Awaitable[list[Any]]],
) -> DataLoader[uuid.UUID, Any]:
    async def load(ids: list[uuid.UUID]) -> list[Any]:
        found = {row.id: row for row in await fetch(session, ids)}
        return [found.get(i) for i in ids]

    return DataLoader(load_fn=load)


def _windows(session: AsyncSession, owner_column: str) -> DataLoader[WindowKey, Window]:
    async def load(keys: list[WindowKey]) -> list[Window]:
        groups: dict[tuple[uuid.UUID | None, int], list[uuid.UUID]] = defaultdict(list)
        for owner, after, limit in keys:
            groups[(after, limit)].append(owner)
        results: dict[WindowKey, Window] = {}
        for (after, limit), owners in groups.items():
            windows = await orgs_repo.windowed_memberships(
                session, owner_column=owner_column, owner_ids=owners, after=after, limit=limit
            )
            for owner, window in windows.items():
                results[(owner, after, limit)] = window
        return [results[k] for k in keys]

    return DataLoader(load_fn=load)


def _viewers(session: AsyncSession) -> DataLoader[Principal | None, Viewer]:
    async def load(principals: list[Principal | None]) -> list[Viewer]:
        return [await load_viewer(session, p) for p in principals]

    return DataLoader(load_fn=load)


class Loaders:
    def __init__(self, session: AsyncSession) -> None:
        self.organisation: DataLoader[uuid.UUID, Organisation | None] = _by_id(
            session, orgs_repo.organisations_by_ids
        )
        self.working_group: DataLoader[uuid.UUID, WorkingGroup | None] = _by_id(
            session, orgs_repo.working_groups_by_ids
        )
        self.membership: DataLoader[uuid.UUID, Membership | None] = _by_id(
            session, orgs_repo.memberships_by_ids
        )
        self.person: DataLoader[uuid.UUID, Person | None] = _by_id(session, orgs_repo.people_by_ids)
        self.members_of_group = _windows(session, "working_group_id")
        self.groups_of_organisation = _windows(session, "organisation_id")
        # The caller as the sharing policy sees it: loaded once per request (and after a write).
        self.viewer: DataLoader[Principal | None, Viewer] = _viewers(session)
        self.indicators = IndicatorLoaders(session)
        self.rules = RuleLoaders(session)
        self.cases = CaseLoaders(session)
