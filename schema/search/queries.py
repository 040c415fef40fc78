from __future__ import annotations

import asyncio
import uuid
from typing import Any

import strawberry
from strawberry.types import Info

from alliance.errors import FieldProblem, InvalidInput
from schema.errors import PublicError
from schema.guides.queries import load_guide
from schema.guides.types import Guide
from schema.indicators.types import IndicatorAssertion
from schema.orgs.types import Organisation, WorkingGroup
from schema.permissions import AUTHENTICATED, query_field
from schema.relay import (
    PageInfo,
    decode_cursor,
    encode_cursor,
    from_global_id,
    page_size,
    to_global_id,
)
from schema.rules.types import Rule
from schema.search.loaders import visible_rules
from schema.search.types import (
    FacetCount,
    SearchConnection,
    SearchEdge,
    SearchFacets,
    SearchFilter,
    SearchHighlight,
    SearchKind,
    SearchSuggestion,
)
from search import service
from search.backend import SearchUnavailable
from search.query import FacetName, SearchFilters, SearchResult

MAX_FILTER_VALUES = 50


def _capped(name: str, values: list | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if len(values) > MAX_FILTER_VALUES:
        raise InvalidInput(
            [FieldProblem(("filter", name), "TOO_MANY", f"at most {MAX_FILTER_VALUES} values")]
        )
    return tuple(str(v.value if hasattr(v, "value") else v) for v in values)


def _filters(kinds: list[SearchKind] | None, given: SearchFilter | None) -> SearchFilters:
    f = given or SearchFilter()
    groups = tuple(
        str(from_global_id(g, "workingGroups", "WorkingGroup")[1])
        for g in _capped("workingGroups", f.working_groups)
    )
    return SearchFilters(
        kinds=_capped("kinds", kinds),
        working_group_ids=groups,
        types=_capped("types", f.types),
        statuses=_capped("status", f.status),
        brands=_capped("brands", f.brands),
        tlps=_capped("tlp", f.tlp),
        languages=_capped("languages", f.languages),
        updated_after=f.updated_after,
        updated_before=f.updated_before,
    )


def _unavailable(exc: SearchUnavailable) -> PublicError:
    return PublicError(f"search is unavailable, try again shortly ({exc})", "SEARCH_UNAVAILABLE")


def _facets(result: SearchResult) -> SearchFacets:
    def counts(name: FacetName) -> list[FacetCount]:
        return [FacetCount(value=f.value, count=f.count) for f in result.facets.get(name, [])]

    kinds = [
        FacetCount(value=SearchKind(f.value).name, count=f.count)
        for f in result.facets.get(FacetName.KIND, [])
        if f.value in {k.value for k in SearchKind}
    ]
    groups = [
        FacetCount(value=to_global_id("WorkingGroup", f.value), count=f.count)
        for f in result.facets.get(FacetName.WORKING_GROUP, [])
    ]
    return SearchFacets(
        kinds=kinds,
        types=counts(FacetName.TYPE),
        working_groups=groups,
        brands=counts(FacetName.BRAND),
        statuses=counts(FacetName.STATUS),
        tlp=counts(FacetName.TLP),
    )


@strawberry.type
class SearchQueries:
    @query_field(
        AUTHENTICATED,
        description=(
            "Full-text search over everything the caller may see: words (stemmed, accents and "
            'look-alike letters folded, typos forgiven), "quoted phrases", Chinese, Japanese '
            "and Korean text. Without `query`, the newest first."
        ),
    )
    async def search(
        self,
        info: Info,
        query: str = "",
        kinds: list[SearchKind] | None = None,
        filter: SearchFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> SearchConnection:
        context = info.context
        limit = page_size(first, context.settings.graphql.max_page_size)
        viewer = await context.loaders.viewer.load(context.principal)
        try:
            result = await service.search(
                context.search,
                viewer,
                query,
                filters=_filters(kinds, filter),
                limit=limit,
                after=decode_cursor(after),
            )
        except SearchUnavailable as exc:
            raise _unavailable(exc) from exc
        rules = visible_rules(context.session, viewer)
        nodes = await asyncio.gather(
            *(_load(context.loaders, viewer, rules, h.kind, h.object_id, info) for h in result.hits)
        )
        edges = []
        for hit, node in zip(result.hits, nodes, strict=True):
            if node is None:  # deleted since it was indexed; its removal is on its way
                continue
            edges.append(
                SearchEdge(
                    node=node,
                    cursor=encode_cursor(hit.cursor),
                    score=hit.score,
                    highlights=[
                        SearchHighlight(field=h.field, fragments=list(h.fragments))
                        for h in hit.highlights
                    ],
                )
            )
        return SearchConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=result.next_cursor is not None,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=encode_cursor(result.next_cursor)
                if result.next_cursor
                else (edges[-1].cursor if edges else None),
            ),
            total_count=result.total,
            facets=_facets(result),
        )

    @query_field(
        AUTHENTICATED,
        description="Words of visible documents completing `prefix`, for a search box.",
    )
    async def suggest(
        self, info: Info, prefix: str, first: int | None = 10
    ) -> list[SearchSuggestion]:
        context = info.context
        viewer = await context.loaders.viewer.load(context.principal)
        try:
            found = await service.suggest(context.search, viewer, prefix, first or 0)
        except SearchUnavailable as exc:
            raise _unavailable(exc) from exc
        return [SearchSuggestion(text=s.text, count=s.count) for s in found]


async def _load(
    loaders: Any, viewer: Any, rules: Any, kind: str, object_id: str, info: Info
) -> Organisation | WorkingGroup | IndicatorAssertion | Rule | Guide | None:
    """The hit's object through the request's dataloaders (one query per kind per page); those
    of shared objects load through the sharing policy, so a stale hit never leaks one."""
    if kind == SearchKind.ORGANISATION.value:
        org = await loaders.organisation.load(uuid.UUID(object_id))
        return Organisation.from_model(org) if org else None
    if kind == SearchKind.WORKING_GROUP.value:
        group = await loaders.working_group.load(uuid.UUID(object_id))
        return WorkingGroup.from_model(group) if group else None
    if kind == SearchKind.INDICATOR_ASSERTION.value:
        assertion = await loaders.indicators.assertion.load((viewer, uuid.UUID(object_id)))
        return IndicatorAssertion.from_model(assertion) if assertion else None
    if kind == SearchKind.RULE.value:
        rule = await rules.load(uuid.UUID(object_id))
        return Rule.from_model(rule) if rule else None
    if kind == SearchKind.GUIDE.value:
        # Read as the caller reads it: the same tier cut as the guide query.
        return await load_guide(info, uuid.UUID(object_id))
    return None
