"""Per-request loaders of the cases domain (one query per batch). Cases load per viewer: what
they return is already what the participants-only rule lets that viewer see; a case's own
parts (participants, items, timeline, evidence) load by the ids of cases already admitted."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from alliance.cases import repository as repo
from alliance.cases.models import Case, TestBuy
from alliance.indicators import repository as indicators_repo
from alliance.sharing.policy import Viewer


def _grouped(
    fetch: Callable[[list[uuid.UUID]], Awaitable[dict[uuid.UUID, list[Any]]]],
) -> DataLoader[uuid.UUID, list[Any]]:
    async def load(keys: list[uuid.UUID]) -> list[list[Any]]:
        found = await fetch(list(dict.fromkeys(keys)))
        return [found.get(k, []) for k in keys]

    return DataLoader(load_fn=load)


def _per_viewer(
    fetch: Callable[[Viewer, list[uuid.UUID]], Awaitable[list[Any]]],
) -> DataLoader[tuple[Viewer, uuid.UUID], Any]:
    async def load(keys: list[tuple[Viewer, uuid.UUID]]) -> list[Any]:
        by_viewer: dict[Viewer, list[uuid.UUID]] = defaultdict(list)
        for who, key in keys:
            by_viewer[who].append(key)
        found: dict[tuple[Viewer, uuid.UUID], Any] = {}
        for who, ids in by_viewer.items():
            for row in await fetch(who, list(dict.fromkeys(ids))):
                found[(who, row.id)] = row
        return [found.get(k) for k in keys]

    return DataLoader(load_fn=load)


class CaseLoaders:
    def __init__(self, session: AsyncSession) -> None:
        async def cases(who: Viewer, ids: list[uuid.UUID]) -> list[Case]:
            return await repo.visible_cases_by_ids(session, who, ids)

        async def test_buys(who: Viewer, ids: list[uuid.UUID]) -> list[TestBuy]:
            return await repo.visible_test_buys_by_ids(session, who, ids)

        async def test_buys_of_cases(ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
            items = await repo.items_of(session, ids)
            wanted = [i.test_buy_id for rows in items.values() for i in rows if i.test_buy_id]
            buys = {b.id: b for b in await repo.test_buys_by_ids(session, wanted)}
            return {
                case_id: [buys[i.test_buy_id] for i in rows if i.test_buy_id in buys]
                for case_id, rows in items.items()
            }

        async def indicators_of_cases(ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
            items = await repo.items_of(session, ids)
            wanted = [i.indicator_id for rows in items.values() for i in rows if i.indicator_id]
            found = {i.id: i for i in await indicators_repo.indicators_by_ids(session, wanted)}
            return {
                case_id: [(i, found[i.indicator_id]) for i in rows if i.indicator_id in found]
                for case_id, rows in items.items()
            }

        async def evidence_of_manifests(ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
            rows = await repo.manifests_of(session, ids)
            files = await repo.evidence_files_by_ids(
                session, [r.evidence_file_id for entries in rows.values() for r in entries]
            )
            return {
                case_id: [files[r.evidence_file_id] for r in entries]
                for case_id, entries in rows.items()
            }

        self.case: DataLoader[tuple[Viewer, uuid.UUID], Case | None] = _per_viewer(cases)
        self.test_buy: DataLoader[tuple[Viewer, uuid.UUID], TestBuy | None] = _per_viewer(test_buys)
        self.participants = _grouped(lambda ids: repo.participants_of(session, ids))
        self.events = _grouped(lambda ids: repo.events_of(session, ids))
        self.evidence = _grouped(evidence_of_manifests)
        self.manifest = _grouped(lambda ids: repo.manifests_of(session, ids))
        self.test_buys_of_case = _grouped(test_buys_of_cases)
        self.indicators_of_case = _grouped(indicators_of_cases)
        self.attachments = _grouped(lambda ids: repo.attachments_of(session, ids))
        self.confirmations = _grouped(lambda ids: repo.confirmations_of(session, ids))


def case_loaders(info: Info) -> CaseLoaders:
    return info.context.loaders.cases  # type: ignore[no-any-return]
