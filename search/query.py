"""The query model both backends translate: what to find, for whom, and how to page."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from alliance.search.documents import SearchDocument
from alliance.sharing.policy import Filter


class FacetName(enum.StrEnum):
    """Facets are counted over every visible match, not just the page."""

    KIND = "kind"
    TYPE = "type"
    WORKING_GROUP = "working_group_id"
    BRAND = "brands"
    STATUS = "status"
    TLP = "tlp"


@dataclass(frozen=True, slots=True)
class SearchFilters:
    kinds: tuple[str, ...] = ()
    working_group_ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    tlps: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    updated_after: datetime | None = None
    updated_before: datetime | None = None

    def terms(self) -> dict[str, tuple[str, ...]]:
        """The keyword filters by document field; an empty tuple filters nothing."""
        return {
            "kind": self.kinds,
            "working_group_id": self.working_group_ids,
            "type": self.types,
            "status": self.statuses,
            "brands": self.brands,
            "tlp": self.tlps,
            "language": self.languages,
        }


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """``visibility`` is the sharing policy's ``search_filter(viewer)``: every backend puts it
    inside the engine query, so pages, counts and facets see only visible documents."""

    text: str
    visibility: Filter
    filters: SearchFilters = field(default_factory=SearchFilters)
    limit: int = 20
    after: str | None = None  # a backend's own opaque cursor from a previous page
    facets: bool = True
    highlight: bool = True


@dataclass(frozen=True, slots=True)
class Highlight:
    field: str
    fragments: tuple[str, ...]  # with matches wrapped in <em>…</em>


@dataclass(frozen=True, slots=True)
class SearchHit:
    kind: str
    object_id: str
    score: float
    highlights: tuple[Highlight, ...] = ()
    cursor: str = ""  # resumes after this hit


@dataclass(frozen=True, slots=True)
class FacetCount:
    value: str
    count: int


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: list[SearchHit]
    total: int
    next_cursor: str | None  # None on the last page
    facets: dict[FacetName, list[FacetCount]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Suggestion:
    text: str
    count: int  # visible documents with this word


@dataclass(frozen=True, slots=True)
class Upsert:
    document: SearchDocument
    version: int  # the change-log sequence number: external version


@dataclass(frozen=True, slots=True)
class Delete:
    doc_id: str
    version: int


IndexAction = Upsert | Delete
