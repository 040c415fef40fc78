"""The portal's search function: its question in, the engine's page out, through the one
search service (so the sharing policy's filter is inside every engine query)."""

from __future__ import annotations

from alliance.portal.search_contract import (
    FoundHit,
    FoundPage,
    PortalSearch,
    SearchAsk,
    SearchOffline,
)
from alliance.sharing.policy import Viewer
from search import service
from search.backend import SearchBackend, SearchUnavailable
from search.query import SearchFilters, SearchResult


def _filters(ask: SearchAsk) -> SearchFilters:
    return SearchFilters(
        kinds=ask.kinds,
        working_group_ids=ask.working_group_ids,
        types=ask.types,
        statuses=ask.statuses,
        brands=ask.brands,
        tlps=ask.tlps,
        languages=ask.languages,
        updated_after=ask.updated_after,
        updated_before=ask.updated_before,
    )


def _page(result: SearchResult) -> FoundPage:
    return FoundPage(
        hits=[
            FoundHit(
                kind=hit.kind,
                object_id=hit.object_id,
                highlights=tuple((h.field, h.fragments) for h in hit.highlights),
            )
            for hit in result.hits
        ],
        total=result.total,
        next_cursor=result.next_cursor,
        facets={
            str(name): [(f.value, f.count) for f in counts]
            for name, counts in result.facets.items()
        },
    )


def portal_search(backend: SearchBackend) -> PortalSearch:
    async def run(viewer: Viewer, ask: SearchAsk) -> FoundPage:
        try:
            result = await service.search(
                backend,
                viewer,
                ask.text,
                filters=_filters(ask),
                limit=ask.limit,
                after=ask.after,
            )
        except SearchUnavailable as exc:
            raise SearchOffline(str(exc)) from exc
        return _page(result)

    return run
