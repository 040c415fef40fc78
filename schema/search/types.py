"""Search results: a connection of hits (the objects themselves), scores, highlights, facets."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

import strawberry

from schema.guides.types import Guide
from schema.indicators.types import IndicatorAssertion
from schema.orgs.types import Organisation, WorkingGroup
from schema.relay import PageInfo
from schema.rules.types import Rule
from schema.sharing import TLP


@strawberry.enum(description="What a search hit is.")
class SearchKind(enum.Enum):
    ORGANISATION = "organisation"
    WORKING_GROUP = "working_group"
    INDICATOR_ASSERTION = "indicator.assertion"
    RULE = "rule"
    GUIDE = "guide"


SearchHit = Annotated[
    Organisation | WorkingGroup | IndicatorAssertion | Rule | Guide,
    strawberry.union("SearchHit", description="An object a search found."),
]


@strawberry.type(description="Where the query matched, with matches wrapped in <em>…</em>.")
class SearchHighlight:
    field: str
    fragments: list[str]


@strawberry.type
class SearchEdge:
    node: SearchHit
    cursor: str
    score: float = strawberry.field(description="Relevance; higher is better.")
    highlights: list[SearchHighlight]


@strawberry.type(description="How many visible matches have this value.")
class FacetCount:
    value: str
    count: int


@strawberry.type(description="Counts over every visible match of the query, not just this page.")
class SearchFacets:
    kinds: list[FacetCount]
    types: list[FacetCount]
    working_groups: list[FacetCount] = strawberry.field(
        description="By working group; the values are WorkingGroup ids."
    )
    brands: list[FacetCount]
    statuses: list[FacetCount]
    tlp: list[FacetCount]


@strawberry.type
class SearchConnection:
    edges: list[SearchEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Visible matches in all, not just this page.")
    facets: SearchFacets


@strawberry.input(description="Every given filter must hold; within one, any value may.")
class SearchFilter:
    working_groups: list[strawberry.ID] | None = None
    types: list[str] | None = None
    status: list[str] | None = None
    brands: list[str] | None = None
    tlp: list[TLP] | None = None  # type: ignore[valid-type]
    languages: list[str] | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None


@strawberry.type(description="A word of visible documents that completes the prefix.")
class SearchSuggestion:
    text: str
    count: int = strawberry.field(description="Visible documents holding the word.")
