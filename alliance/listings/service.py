"""Filling the listing matcher from the database and keeping it fresh from the change log.

Each source of entries is a :class:`Loader`: it names the change-log kinds it follows,
loads everything at start, and reloads just the objects a batch of change rows names. The
:class:`MatcherFollower` polls the log after its cursor (held in memory: every API process
keeps its own matcher, and rebuilds it at start) and hands each loader its rows, so a new,
changed or revoked rule or indicator takes effect within one poll interval.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alliance.auth.principal import Principal
from alliance.changelog import service as changelog
from alliance.changelog.models import ChangeLogEntry
from alliance.errors import FieldProblem, Forbidden, InvalidInput
from alliance.indicators.indicator_type import IndicatorType
from alliance.listings import repository as repo
from alliance.listings.counting import ListingCounts
from alliance.listings.listing import Listing, parse_listing
from alliance.listings.matcher import (
    AllowlistEntry,
    CheckResult,
    IndicatorEntry,
    Link,
    Matcher,
    RuleEntry,
)
from alliance.rules import repository as rules_repo
from alliance.rules.definition import parse_definition
from alliance.rules.service import RULE_KIND, visibility_of
from alliance.sharing.policy import Viewer, Visibility
from alliance.sharing.service import load_viewer
from alliance.taxonomy import repository as taxonomy_repo
from alliance.taxonomy.service import PLATFORM_MAP_KIND, TAXONOMY_KIND
from alliance.taxonomy.tree import CategoryTree

logger = logging.getLogger("alliance.listings")

CHECK_SCOPE = "listings:check"
OPERATOR_SCOPE = "admin"
MAX_BATCH = 1000
POLL_SECONDS = 0.5
POLL_BATCH = 1000

# The indicator domain's change-log kinds.
ASSERTION_KIND = "indicator.assertion"
REACTION_KIND = "indicator.reaction"
ALLOWLIST_KIND = "indicator.allowlist_entry"


class Loader(Protocol):
    kinds: frozenset[str]

    async def load_all(self, session: AsyncSession, matcher: Matcher) -> None: ...

    async def reload(
        self, session: AsyncSession, matcher: Matcher, rows: Sequence[ChangeLogEntry]
    ) -> None: ...


def _uuids(rows: Iterable[ChangeLogEntry]) -> list[uuid.UUID]:
    found = []
    for row in rows:
        try:
            found.append(uuid.UUID(row.object_id))
        except ValueError:
            continue
    return list(dict.fromkeys(found))


class TaxonomyLoader:
    kinds = frozenset({TAXONOMY_KIND, PLATFORM_MAP_KIND})

    async def load_all(self, session: AsyncSession, matcher: Matcher) -> None:
        matcher.set_tree(CategoryTree(await taxonomy_repo.all_parents(session)))
        maps: dict[str, dict[str, int]] = {}
        for (platform, pid), cid in (await taxonomy_repo.platform_maps(session)).items():
            maps.setdefault(platform, {})[pid] = cid
        for platform, mapping in maps.items():
            matcher.set_platform_map(platform, mapping)

    async def reload(
        self, session: AsyncSession, matcher: Matcher, rows: Sequence[ChangeLogEntry]
    ) -> None:
        if any(r.kind == TAXONOMY_KIND for r in rows):
            matcher.set_tree(CategoryTree(await taxonomy_repo.all_parents(session)))
        platforms = sorted({r.object_id for r in rows if r.kind == PLATFORM_MAP_KIND})
        if platforms:
            found = await taxonomy_repo.platform_maps(session, platforms)
            for platform in platforms:
                matcher.set_platform_map(
                    platform, {pid: cid for (p, pid), cid in found.items() if p == platform}
                )


class RuleLoader:
    kinds = frozenset({RULE_KIND})

    async def load_all(self, session: AsyncSession, matcher: Matcher) -> None:
        for rule, version in await rules_repo.active_rules(session):
            matcher.put_rule(
                RuleEntry.of(
                    rule.id,
                    version.number,
                    parse_definition(version.definition),
                    visibility_of(rule),
                )
            )

    async def reload(
        self, session: AsyncSession, matcher: Matcher, rows: Sequence[ChangeLogEntry]
    ) -> None:
        ids = _uuids(rows)
        for rule_id in ids:
            matcher.drop_rule(rule_id)
        for rule, version in await rules_repo.active_rules(session, ids):
            matcher.put_rule(
                RuleEntry.of(
                    rule.id,
                    version.number,
                    parse_definition(version.definition),
                    visibility_of(rule),
                )
            )


# Every entry with the same visibility shares one object: a million assertions hold a few
# thousand distinct ones, and the matcher decides each distinct object once per viewer.
_VISIBILITIES: dict[Visibility, Visibility] = {}


def interned(visibility: Visibility) -> Visibility:
    found = _VISIBILITIES.get(visibility)
    if found is None:
        if len(_VISIBILITIES) >= 1 << 16:
            _VISIBILITIES.clear()
        found = _VISIBILITIES[visibility] = visibility
    return found


def _indicator_entry(row: Any, keys: Mapping[uuid.UUID, list[tuple[str, str]]]) -> IndicatorEntry:
    return IndicatorEntry(
        id=row[0],
        indicator_id=row[1],
        type=IndicatorType(row[2]),
        value=row[3],
        visibility=interned(Visibility(row[4], row[5], row[6], row[7])),
        score=float(row[8] or 0.0),
        keys=tuple(keys.get(row[1], ())),
        brands=tuple(row[9] or ()),
        valid_until=row[10],
    )


class IndicatorLoader:
    """Active assertions of indicators, their seller-network links, and brand allowlists."""

    kinds = frozenset({ASSERTION_KIND, REACTION_KIND, ALLOWLIST_KIND})

    async def load_all(self, session: AsyncSession, matcher: Matcher) -> None:
        keys = await repo.match_keys(session)
        entries: list[IndicatorEntry] = []
        async for batch in repo.active_assertions(session):
            entries += (_indicator_entry(row, keys) for row in batch)
        matcher.load_indicators(entries)
        self._put_links(matcher, await repo.links(session))
        for entry in await repo.allowlist_entries(session):
            matcher.put_allowlist(allowlist_entry_of(entry))
        matcher.compact()

    @staticmethod
    def _put_links(matcher: Matcher, found: Iterable[tuple[uuid.UUID, uuid.UUID, str]]) -> None:
        adjacency: dict[uuid.UUID, dict[uuid.UUID, str]] = {}
        for source, target, reason in found:
            adjacency.setdefault(source, {})[target] = reason
            adjacency.setdefault(target, {})[source] = reason
        for assertion_id, others in adjacency.items():
            known = {link.other: link.reason for link in matcher.links.get(assertion_id, ())}
            known.update(others)
            matcher.set_links(assertion_id, (Link(o, r) for o, r in known.items()))

    async def reload(
        self, session: AsyncSession, matcher: Matcher, rows: Sequence[ChangeLogEntry]
    ) -> None:
        assertion_ids = _uuids(r for r in rows if r.kind == ASSERTION_KIND)
        reactions = _uuids(r for r in rows if r.kind == REACTION_KIND)
        if reactions:
            assertion_ids += await repo.assertion_ids_of_reactions(session, reactions)
        assertion_ids = list(dict.fromkeys(assertion_ids))
        if assertion_ids:
            for assertion_id in assertion_ids:
                matcher.drop_indicator(assertion_id)
            loaded = []
            async for batch in repo.active_assertions(session, assertion_ids):
                loaded += batch
            keys = await repo.match_keys(session, list({row[1] for row in loaded}))
            for row in loaded:
                matcher.put_indicator(_indicator_entry(row, keys))
            self._put_links(matcher, await repo.links(session, assertion_ids))
        entry_ids = _uuids(r for r in rows if r.kind == ALLOWLIST_KIND)
        if entry_ids:
            for entry_id in entry_ids:
                matcher.drop_allowlist(entry_id)
            for entry in await repo.allowlist_entries(session, entry_ids):
                matcher.put_allowlist(allowlist_entry_of(entry))


def allowlist_entry_of(entry: Any) -> AllowlistEntry:
    return AllowlistEntry(
        id=entry.id,
        type=IndicatorType(entry.type),
        value=entry.value,
        brand=entry.brand,
        label=entry.label,
        visibility=interned(
            Visibility(entry.owner_org_id, entry.working_group_id, entry.distribution, entry.tlp)
        ),
    )


DEFAULT_LOADERS: tuple[Loader, ...] = (TaxonomyLoader(), RuleLoader(), IndicatorLoader())


@dataclass
class MatcherFollower:
    """A matcher and how far into the change log it has applied."""

    sessions: async_sessionmaker[AsyncSession]
    matcher: Matcher
    cursor: int = 0
    loaders: tuple[Loader, ...] = DEFAULT_LOADERS
    interval: float = POLL_SECONDS

    @classmethod
    async def build(
        cls,
        sessions: async_sessionmaker[AsyncSession],
        *,
        loaders: tuple[Loader, ...] = DEFAULT_LOADERS,
        interval: float = POLL_SECONDS,
    ) -> MatcherFollower:
        """Load everything; the cursor is the log's head read *before* loading, so a change
        committed while loading is applied again afterwards (reloading is idempotent)."""
        matcher = Matcher()
        async with sessions() as session:
            head = await changelog.head(session)
            for loader in loaders:
                await loader.load_all(session, matcher)
        return cls(sessions, matcher, head, loaders, interval)

    async def poll_once(self) -> int:
        """Apply the change rows after the cursor; returns how many were read."""
        async with self.sessions() as session:
            rows = await changelog.read_after(session, self.cursor, POLL_BATCH)
            if not rows:
                return 0
            for loader in self.loaders:
                mine = [r for r in rows if r.kind in loader.kinds]
                if mine:
                    await loader.reload(session, self.matcher, mine)
        self.cursor = rows[-1].seq
        return len(rows)

    async def run(self) -> None:
        """Poll forever (the app's lifespan cancels it); a failing poll is logged and retried."""
        while True:
            try:
                while await self.poll_once() >= POLL_BATCH:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("listing matcher: applying the change log failed; retrying")
            await asyncio.sleep(self.interval)


# --- checking ---------------------------------------------------------------------------------


def require_checker(principal: Principal | None) -> None:
    if principal is None or not (
        principal.has_scope(CHECK_SCOPE) or principal.has_scope(OPERATOR_SCOPE)
    ):
        raise Forbidden(f"requires the {CHECK_SCOPE!r} scope")


async def checking_viewer(session: AsyncSession, principal: Principal | None) -> Viewer:
    require_checker(principal)
    return await load_viewer(session, principal)


def parse_batch(items: Sequence[Mapping[str, Any]]) -> list[Listing]:
    if len(items) > MAX_BATCH:
        raise InvalidInput(
            [FieldProblem(("listings",), "TOO_MANY", f"at most {MAX_BATCH} listings a call")]
        )
    problems: list[FieldProblem] = []
    listings = []
    for n, item in enumerate(items):
        try:
            listings.append(parse_listing(item, path=("listings", str(n))))
        except InvalidInput as exc:
            problems += exc.problems
    if problems:
        raise InvalidInput(problems)
    return listings


def check_listings(
    matcher: Matcher,
    viewer: Viewer,
    listings: Sequence[Listing],
    counts: ListingCounts | None = None,
) -> list[CheckResult]:
    """Check each listing, the batch's image hashes searched together; ``counts`` (the
    process's :class:`ListingCounts`) adds them to the statistics' counters, in memory."""
    results = matcher.check_many(viewer, listings)
    if counts is not None:
        counts.record_all(matcher, viewer, results)
    return results
