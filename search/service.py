"""Searching as a viewer: the sharing policy's filter goes into every engine query."""

from __future__ import annotations

from alliance.errors import FieldProblem, InvalidInput
from alliance.sharing.policy import Viewer, search_filter
from search.backend import MAX_SUGGESTIONS, InvalidCursor, SearchBackend
from search.query import SearchFilters, SearchQuery, SearchResult, Suggestion

MAX_QUERY_LENGTH = 500


async def search(
    backend: SearchBackend,
    viewer: Viewer,
    text: str,
    *,
    filters: SearchFilters,
    limit: int,
    after: str | None,
) -> SearchResult:
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidInput(
            [FieldProblem(("query",), "TOO_LONG", f"at most {MAX_QUERY_LENGTH} characters")]
        )
    query = SearchQuery(
        text=text, visibility=search_filter(viewer), filters=filters, limit=limit, after=after
    )
    try:
        return await backend.search(query)
    except InvalidCursor as exc:
        raise InvalidInput(
            [FieldProblem(("after",), "INVALID_CURSOR", "is not a valid cursor")]
        ) from exc


async def suggest(
    backend: SearchBackend, viewer: Viewer, prefix: str, limit: int
) -> list[Suggestion]:
    if not 0 <= limit <= MAX_SUGGESTIONS:
        raise InvalidInput(
            [FieldProblem(("first",), "OUT_OF_RANGE", f"must be between 0 and {MAX_SUGGESTIONS}")]
        )
    if len(prefix) > 100:
        raise InvalidInput([FieldProblem(("prefix",), "TOO_LONG", "at most 100 characters")])
    return await backend.suggest(prefix, search_filter(viewer), limit)
