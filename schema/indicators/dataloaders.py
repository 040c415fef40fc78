"""Per-request loaders of the indicators domain. Every key carries the viewer, so what a loader
returns is already what the sharing policy lets that viewer see (one query per batch)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from alliance.indicators import repository as repo
from alliance.indicators.models import (
    Indicator,
    IndicatorAssertion,
    IndicatorProposal,
    IndicatorReaction,
)
from alliance.sharing.policy import Viewer

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# (viewer, assertion id, after id, limit) -> (rows, total)
WindowKey = tuple[Viewer, uuid.UUID, uuid.UUID | None, int]
Window = tuple[list[Any], int]


def _per_viewer(
    fetch: Callable[[Viewer, list[uuid.UUID]], Awaitable[dict[uuid.UUID, Any]]], default: Any
) -> DataLoader[tuple[Viewer, uuid.UUID], Any]:
    async def load(keys: list[tuple[Viewer, uuid.UUID]]) -> list[Any]:
        by_viewer: dict[Viewer, list[uuid.UUID]] = defaultdict(list)
        for viewer, key in keys:
            by_viewer[viewer].append(key)
        found: dict[tuple[Viewer, uuid.UUID], Any] = {}
        for viewer, ids in by_viewer.items():
            for key, value in (await fetch(viewer, list(dict.fromkeys(ids)))).items():
                found[(viewer, key)] = value
        return [found.get(k, default() if callable(default) else default) for k in keys]

    return DataLoader(load_fn=load)


def _windows(session: AsyncSession, model: Any) -> DataLoader[WindowKey, Window]:
    async def load(keys: list[WindowKey]) -> list[Window]:
        groups: dict[tuple[Viewer, uuid.UUID | None, int], list[uuid.UUID]] = defaultdict(list)
        for viewer, owner, after, limit in keys:
            groups[(viewer, after, limit)].append(owner)
        results: dict[WindowKey, Window] = {}
        for (viewer, after, limit), owners in groups.items():
            windows = await repo.windowed_visible(
                session, viewer, model, assertion_ids=owners, after=after, limit=limit
            )
            for owner, window in windows.items():
                results[(viewer, owner, after, limit)] = window
        return [results.get(k, ([], 0)) for k in keys]

    return DataLoader(load_fn=load)


class IndicatorLoaders:
    def __init__(self, session: AsyncSession) -> None:
        async def indicators(viewer: Viewer, ids: list[uuid.UUID]) -> dict[uuid.UUID, Indicator]:
            return {i.id: i for i in await repo.visible_indicators_by_ids(session, viewer, ids)}

        async def assertions_of(
            viewer: Viewer, ids: list[uuid.UUID]
        ) -> dict[uuid.UUID, list[IndicatorAssertion]]:
            grouped: dict[uuid.UUID, list[IndicatorAssertion]] = defaultdict(list)
            for a in await repo.visible_assertions_of(session, viewer, ids):
                grouped[a.indicator_id].append(a)
            return dict(grouped)

        async def assertions(viewer: Viewer, ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
            return {a.id: a for a in await repo.visible_assertions_by_ids(session, viewer, ids)}

        async def tallies(viewer: Viewer, ids: list[uuid.UUID]) -> dict[uuid.UUID, repo.Tally]:
            return await repo.visible_tallies(session, viewer, ids)

        self.indicator: DataLoader[tuple[Viewer, uuid.UUID], Indicator | None] = _per_viewer(
            indicators, None
        )
        self.assertion: DataLoader[tuple[Viewer, uuid.UUID], IndicatorAssertion | None] = (
            _per_viewer(assertions, None)
        )
        self.assertions_of: DataLoader[tuple[Viewer, uuid.UUID], list[IndicatorAssertion]] = (
            _per_viewer(assertions_of, list)
        )
        self.tally: DataLoader[tuple[Viewer, uuid.UUID], repo.Tally] = _per_viewer(
            tallies, repo.Tally
        )
        self.reactions: DataLoader[WindowKey, Window] = _windows(session, IndicatorReaction)
        self.proposals: DataLoader[WindowKey, Window] = _windows(session, IndicatorProposal)


class Missing:
    """Marks a value a loader has not settled yet."""


MISSING = Missing()


def ready(loader: DataLoader[K, V], key: K) -> V | Missing:
    """What ``loader`` already holds for ``key`` (primed, or loaded earlier in the request),
    without awaiting: a resolver whose data is there answers synchronously, which spares
    graphql-core a coroutine and a task per field. ``MISSING`` when it must be loaded."""
    future = loader.cache_map.get(key)
    if future is None or not future.done() or future.cancelled() or future.exception():
        return MISSING
    return future.result()


def loaders(info: Info) -> IndicatorLoaders:
    """This request's indicator loaders (made with the request's other loaders, and renewed
    with them after a write)."""
    return info.context.loaders.indicators  # type: ignore[no-any-return]


async def viewer(info: Info) -> Viewer:
    return await info.context.loaders.viewer.load(info.context.principal)  # type: ignore[no-any-return]


def viewer_now(info: Info) -> Viewer | Missing:
    """The viewer if this request has loaded it already (the list resolver above did)."""
    return ready(info.context.loaders.viewer, info.context.principal)
