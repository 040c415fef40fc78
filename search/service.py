"""Searching as a viewer: the sharing policy's filter goes into every engine query."""

from __future__ import annotations

from datetime import UTC, datetime

from alliance.errors import FieldProblem, InvalidInput
from alliance.sharing.policy import Viewer, search_filter
from search.backend import MAX_SUGGESTIONS, InvalidCursor, SearchBackend
from search.query import SearchFilters, SearchQuery, SearchResult, Suggestion

MAX_QUERY_LENGTH = 500
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2250, 1, 1, tzinfo=UTC)


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
    _check_dates(filters)
    query = SearchQuery(
        text=text, visibility=search_filter(viewer), filters=filters, limit=limit, after=after
    )
    try:
        return await backend.search(query)
    except InvalidCursor as exc:
        raise InvalidInput(
            [FieldProblem(("after",), "INVALID_CURSOR", "is not a valid cursor")]
        ) from exc


def _check_dates(filters: SearchFilters) -> None:
    """Both engines compare dates in a bounded range (Tantivy's nanoseconds end in 2262); an
    instant outside ``EARLIEST``…``LATEST`` is refused, as nothing is ever updated there."""
    problems = [
        FieldProblem(
            ("filter", name), "OUT_OF_RANGE", f"must be between {EARLIEST:%Y} and {LATEST:%Y}"
        )
        for name, value in (
            ("updatedAfter", filters.updated_after),
            ("updatedBefore", filters.updated_before),
        )
        if value is not None and not EARLIEST <= _aware(value) <= LATEST
    ]
    if problems:
        raise InvalidInput(problems)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


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
