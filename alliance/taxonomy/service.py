"""Importing the category tree and partner platforms' category maps: the only writers.

The tree is reference data every organisation (and every peer) may read, so its change-log
rows are FEDERATION / CLEAR; one row per import (not one per category) tells the listing
matchers to reload it. Categories absent from a newer file are kept: rules and maps may
still name them, and Google retires categories rarely.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.auth.principal import Principal
from alliance.changelog.models import Operation
from alliance.changelog.service import record_change
from alliance.errors import FieldProblem, InvalidInput
from alliance.orgs.service import require_operator
from alliance.sharing import TLP, Distribution
from alliance.taxonomy import repository as repo
from alliance.taxonomy.models import TaxonomySource
from alliance.taxonomy.tree import Category, PlatformCategory
from alliance.validation import SLUG_RE

TAXONOMY_KIND = "taxonomy"
PLATFORM_MAP_KIND = "platform_category_map"
TAXONOMY_KEY = "product-taxonomy"
CHANGE_KINDS = frozenset({TAXONOMY_KIND, PLATFORM_MAP_KIND})


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: int
    updated: int
    unchanged: int
    version: int


async def _bump(session: AsyncSession, key: str, entries: int) -> TaxonomySource:
    found = await repo.source(session, key)
    if found is None:
        found = TaxonomySource(key=key, version=1, entries=entries)
        session.add(found)
    else:
        found.version += 1
        found.entries = entries
    await session.flush()
    return found


def _record(session: AsyncSession, kind: str, object_id: str, version: int) -> None:
    record_change(
        session,
        kind=kind,
        object_id=object_id,
        version=version,
        operation=Operation.UPDATE if version > 1 else Operation.CREATE,
        distribution=Distribution.FEDERATION,
        tlp=TLP.CLEAR,
    )


async def import_taxonomy(
    session: AsyncSession, principal: Principal | None, categories: Sequence[Category]
) -> ImportReport:
    """Create or rename the categories of a parsed taxonomy file (operators only)."""
    require_operator(principal)
    ids = {c.path: c.id for c in categories}
    wanted = {
        c.id: {
            "id": c.id,
            "name": c.name[:200],
            "full_name": c.full_name,
            "parent_id": ids.get(c.path[:-1]) if len(c.path) > 1 else None,
            "depth": len(c.path),
        }
        for c in categories
    }
    existing = {row.id: row for row in await repo.categories_by_ids(session, list(wanted))}
    fresh = [row for cid, row in wanted.items() if cid not in existing]
    changed = [
        row
        for cid, row in wanted.items()
        if cid in existing
        and (existing[cid].full_name, existing[cid].parent_id)
        != (row["full_name"], row["parent_id"])
    ]
    await repo.insert_categories(session, fresh)
    await repo.update_categories(session, changed)
    source = await _bump(session, TAXONOMY_KEY, await repo.count_categories(session))
    _record(session, TAXONOMY_KIND, TAXONOMY_KEY, source.version)
    return ImportReport(
        created=len(fresh),
        updated=len(changed),
        unchanged=len(wanted) - len(fresh) - len(changed),
        version=source.version,
    )


def check_platform(platform: str) -> str:
    cleaned = platform.strip().lower()
    if not SLUG_RE.fullmatch(cleaned):
        raise InvalidInput(
            [FieldProblem(("platform",), "INVALID_SLUG", "must be a slug such as 'shopmart'")]
        )
    return cleaned


async def map_platform_categories(
    session: AsyncSession,
    principal: Principal | None,
    platform: str,
    mappings: Sequence[PlatformCategory],
) -> ImportReport:
    """Replace one platform's category map (operators only); every target must exist."""
    require_operator(principal)
    name = check_platform(platform)
    known = await repo.category_ids(session)
    problems = [
        FieldProblem(
            ("mappings", m.platform_category_id),
            "UNKNOWN_CATEGORY",
            f"category {m.category_id} is not in the taxonomy",
        )
        for m in mappings
        if m.category_id not in known
    ]
    if problems:
        raise InvalidInput(problems[:20])
    before = await repo.platform_maps(session, [name])
    await repo.replace_platform_map(
        session, name, [(m.platform_category_id, m.category_id) for m in mappings]
    )
    source = await _bump(session, f"platform:{name}", len(mappings))
    _record(session, PLATFORM_MAP_KIND, name, source.version)
    created = sum(1 for m in mappings if (name, m.platform_category_id) not in before)
    updated = sum(
        1
        for m in mappings
        if (name, m.platform_category_id) in before
        and before[(name, m.platform_category_id)] != m.category_id
    )
    return ImportReport(
        created=created,
        updated=updated,
        unchanged=len(mappings) - created - updated,
        version=source.version,
    )
