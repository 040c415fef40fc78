"""Counting listing checks for the transparency statistics, without a write per listing.

Each API process adds its checks up in memory (:class:`ListingCounts`, a dict of three
integers per (day, checking organisation, working group)) and a :class:`CountFlusher`
started in the app's lifespan upserts them every :data:`FLUSH_SECONDS` and once more at
shutdown: one ``INSERT … ON CONFLICT DO UPDATE SET checked = checked + excluded.checked``
row per key, so several processes add to the same rows. A flush that fails puts its counts
back, to go with the next one.

What a check counts toward (README, "Transparency statistics"):

- every check: the checking organisation's alliance-wide row (``ALL_GROUPS``): checked, and
  blocked or review by the verdict;
- "checked" also toward each working group the checking organisation holds a seat in;
- "blocked" (or "review") also toward each working group whose rules or indicators decided
  the verdict: the visible, not overridden matches whose outcome is the verdict (for a
  listing sent over the line by several weak indicators together: all its indicator
  matches). A listing blocked by two groups' rules counts once in each group.

This module is the only writer of ``listing_check_counts``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alliance.db import unit_of_work
from alliance.listings.matcher import CheckResult, Match, Matcher, MatchKind, Verdict
from alliance.listings.models import ALL_GROUPS, NO_ORGANISATION, ListingCheckCount
from alliance.sharing.policy import Viewer

logger = logging.getLogger("alliance.listings")

FLUSH_SECONDS = 5.0
Key = tuple[date, uuid.UUID, uuid.UUID]
# checked, blocked, review
CHECKED, BLOCKED, REVIEW = 0, 1, 2


def _utc_day() -> date:
    return datetime.now(UTC).date()


class _Today:
    """Today's UTC date, recomputed only once the clock passes midnight UTC."""

    def __init__(self) -> None:
        self._until = 0.0
        self._day = date.min

    def __call__(self) -> date:
        now = time.time()
        if now >= self._until:
            self._day = _utc_day()
            self._until = (now // 86400 + 1) * 86400
        return self._day


def deciding_groups(matcher: Matcher, result: CheckResult) -> set[uuid.UUID]:
    """The working groups whose rules or indicators gave the listing its verdict."""
    deciding = [
        m
        for m in result.matches
        if m.outcome == result.verdict and not m.overridden and m.kind != MatchKind.ALLOWLIST
    ]
    if not deciding:  # several weak indicators together
        deciding = [m for m in result.matches if m.kind == MatchKind.INDICATOR and not m.overridden]
    groups: set[uuid.UUID] = set()
    for match in deciding:
        group = _group_of(matcher, match)
        if group is not None:
            groups.add(group)
    return groups


def _group_of(matcher: Matcher, match: Match) -> uuid.UUID | None:
    try:
        key = uuid.UUID(match.id)
    except ValueError:
        return None
    entry: Any = (
        matcher.rules.get(key) if match.kind == MatchKind.RULE else matcher.assertions.get(key)
    )
    return None if entry is None else entry.visibility.working_group_id  # type: ignore[no-any-return]


class ListingCounts:
    """The checks this process answered since its last flush."""

    def __init__(self, *, today: Callable[[], date] | None = None) -> None:
        self._today = today or _Today()
        self._pending: dict[Key, list[int]] = {}
        # The rows of the last viewer seen (a stream's lines share one): no hashing per check.
        self._last: tuple[Viewer, date, dict[Key, list[int]], list[int], list[list[int]]] | None
        self._last = None

    def record(self, matcher: Matcher, viewer: Viewer, result: CheckResult) -> None:
        self.record_all(matcher, viewer, (result,))

    def record_all(self, matcher: Matcher, viewer: Viewer, results: Iterable[CheckResult]) -> None:
        day = self._today()
        org = viewer.organisation_id or NO_ORGANISATION
        last = self._last
        if last is not None and last[0] is viewer and last[1] == day and last[2] is self._pending:
            total, seats = last[3], last[4]
        else:
            total = self._row((day, org, ALL_GROUPS))
            seats = [self._row((day, org, s.working_group_id)) for s in viewer.seats]
            self._last = (viewer, day, self._pending, total, seats)
        for result in results:
            total[CHECKED] += 1
            for row in seats:
                row[CHECKED] += 1
            if result.verdict == Verdict.ALLOW:
                continue
            column = BLOCKED if result.verdict == Verdict.BLOCK else REVIEW
            total[column] += 1
            for group in deciding_groups(matcher, result):
                self._row((day, org, group))[column] += 1

    def _row(self, key: Key) -> list[int]:
        row = self._pending.get(key)
        if row is None:
            row = self._pending[key] = [0, 0, 0]
        return row

    def pending(self) -> dict[Key, tuple[int, int, int]]:
        return {k: (v[0], v[1], v[2]) for k, v in self._pending.items()}

    def take(self) -> dict[Key, list[int]]:
        taken, self._pending = self._pending, {}
        return taken

    def put_back(self, taken: dict[Key, list[int]]) -> None:
        for key, counts in taken.items():
            row = self._row(key)
            for i, n in enumerate(counts):
                row[i] += n

    async def flush(self, sessions: async_sessionmaker[AsyncSession]) -> int:
        """Upsert the pending counts in one transaction; returns how many rows it wrote."""
        taken = self.take()
        if not taken:
            return 0
        try:
            async with unit_of_work(sessions) as session:
                await add_counts(session, taken)
        except BaseException:
            self.put_back(taken)
            raise
        return len(taken)


async def add_counts(session: AsyncSession, counts: dict[Key, list[int]]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = ListingCheckCount.__table__
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.day, table.c.organisation_id, table.c.working_group_id],
        set_={
            name: table.c[name] + statement.excluded[name]
            for name in ("checked", "blocked", "review")
        },
    )
    await session.execute(
        statement,
        [
            {
                "day": day,
                "organisation_id": org,
                "working_group_id": group,
                "checked": c[CHECKED],
                "blocked": c[BLOCKED],
                "review": c[REVIEW],
            }
            for (day, org, group), c in sorted(counts.items())
        ],
    )


class CountFlusher:
    """Flushes every ``interval`` seconds when ``periodic`` (a process owning its engine; a
    test's single shared connection must not be written beside requests), and at close."""

    def __init__(
        self,
        counts: ListingCounts,
        sessions: async_sessionmaker[AsyncSession],
        *,
        periodic: bool,
        interval: float = FLUSH_SECONDS,
    ) -> None:
        self.counts = counts
        self.sessions = sessions
        self.interval = interval
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="listing-counts") if periodic else None

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), self.interval)
            except TimeoutError:
                pass
            await self._flush_logged()

    async def _flush_logged(self) -> None:
        try:
            await self.counts.flush(self.sessions)
        except Exception:
            logger.exception("listing counts: flush failed; kept for the next one")

    async def close(self) -> None:
        """Stop (letting a flush under way finish, never cancelling it half-committed) and
        write what is left."""
        self._stop.set()
        if self._task is not None:
            await self._task
        else:
            await self._flush_logged()
