"""What the portal's search page asks of the search engine, in the domain's own terms.

The engine lives in the top-level ``search`` package, which ``alliance`` never imports; the
app wires a :data:`PortalSearch` built on ``search.service.search`` into
``app.state.portal_search``, and the page calls it with the viewer the sharing policy made,
so visibility is decided inside the engine query.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from alliance.sharing.policy import Viewer


@dataclass(frozen=True, slots=True)
class SearchAsk:
    """One page's question; every non-empty filter must hold, any of its values may."""

    text: str = ""
    kinds: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    working_group_ids: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    tlps: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    after: str | None = None
    limit: int = 20


@dataclass(frozen=True, slots=True)
class FoundHit:
    kind: str
    object_id: str
    highlights: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (field, fragments with <em>)


@dataclass(frozen=True, slots=True)
class FoundPage:
    hits: list[FoundHit]
    total: int
    next_cursor: str | None
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # by facet name


class SearchOffline(Exception):
    """The engine cannot answer now; nothing is wrong with the question."""


PortalSearch = Callable[[Viewer, SearchAsk], Awaitable[FoundPage]]
