"""Loading a page of indicators level by level before graphql-core walks it.

The list resolver reads which fields the document asks of each indicator and, one batch per
level, fills the request's loaders with exactly the keys the nested resolvers will ask for:
the assertions and tallies of the page, the windows of reactions and proposals of those
assertions, and the organisations named. The nested resolvers then answer synchronously
(see ``ready``), with no coroutine or task per field. The batches are the loaders' own, so
what is fetched, and what the sharing policy lets through, is what the nested resolvers
would have loaded themselves; whatever is not prefetched they still load on demand.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

from alliance.errors import InvalidInput
from alliance.indicators.models import IndicatorAssertion
from alliance.sharing.policy import Viewer
from schema.indicators.dataloaders import loaders
from schema.indicators.types import assertion_window
from schema.relay import decode_cursor, page_size

SUMMARY_FIELDS = frozenset(
    {"status", "score", "confidence", "organisationsAsserting", "firstSeenAt", "lastSeenAt"}
)


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    """The fields of a selection set, through fragments."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:
            yield from _fields(selection.selections)


def _under(fields: Iterable[SelectedField], *path: str) -> list[SelectedField]:
    """The fields reached from ``fields`` by the names in ``path`` (aliases included)."""
    level = list(fields)
    for name in path:
        level = [f for parent in level for f in _fields(parent.selections) if f.name == name]
    return level


def _window_key(info: Info, field: SelectedField) -> tuple[int, uuid.UUID | None] | None:
    """A nested connection's (limit, after) as its resolver reads them; ``None`` if they are
    invalid (the resolver reports that, at its own path)."""
    first, after = field.arguments.get("first"), field.arguments.get("after")
    try:
        # Literals arrive as their source text, variables as coerced values.
        limit = page_size(
            None if first is None else int(first), info.context.settings.graphql.max_page_size
        )
        raw = decode_cursor(after)
        return limit, None if raw is None else uuid.UUID(raw)
    except (InvalidInput, ValueError, TypeError, AttributeError):
        return None


async def prefetch_indicator_page(info: Info, who: Viewer, indicator_ids: list[uuid.UUID]) -> None:
    if not indicator_ids:
        return
    nodes = _under(info.selected_fields, "edges", "node")
    asked = {f.name for node in nodes for f in _fields(node.selections)}
    if not asked & (SUMMARY_FIELDS | {"assertions"}):
        return
    batch = loaders(info)
    keys = [(who, i) for i in indicator_ids]
    every: list[list[IndicatorAssertion]] = await batch.assertions_of.load_many(keys)
    if asked & SUMMARY_FIELDS:
        await batch.tally.load_many(keys)
    organisations: set[uuid.UUID] = set()
    for connection in _under(nodes, "assertions"):
        window = _window_key(info, connection)
        if window is None:
            continue
        limit, after = window
        shown = [a for assertions in every for a in assertion_window(assertions, limit, after)[0]]
        assertion_nodes = _under([connection], "edges", "node")
        if _under(assertion_nodes, "organisation"):
            organisations.update(a.owner_org_id for a in shown)
        organisations |= await _windows(
            info, who, shown, assertion_nodes, "reactions", "organisation"
        )
        organisations |= await _windows(info, who, shown, assertion_nodes, "proposals", "proposer")
    if organisations:
        await info.context.loaders.organisation.load_many(sorted(organisations))


async def _windows(
    info: Info,
    who: Viewer,
    shown: list[IndicatorAssertion],
    assertion_nodes: list[SelectedField],
    name: str,
    organisation_field: str,
) -> set[uuid.UUID]:
    """Load the reaction (or proposal) windows the document asks of these assertions; the
    owners of what they hold, if their organisation is asked for."""
    loader: Any = getattr(loaders(info), name)
    owners: set[uuid.UUID] = set()
    for connection in _under(assertion_nodes, name):
        window = _window_key(info, connection)
        if window is None or not shown:
            continue
        limit, after = window
        found = await loader.load_many([(who, a.id, after, limit) for a in shown])
        if _under([connection], "edges", "node", organisation_field):
            owners.update(row.owner_org_id for rows, _ in found for row in rows[:limit])
    return owners
