"""The backend protocol: what the indexer, the CLI and the API need from a search engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from alliance.sharing.policy import Filter
from search.query import IndexAction, SearchQuery, SearchResult, Suggestion

FACET_SIZE = 20
MAX_SUGGESTIONS = 20


class InvalidCursor(ValueError):
    """The ``after`` cursor was not made by this backend."""


class SearchUnavailable(Exception):
    """The engine cannot be reached or refused the work; retry later, nothing was lost."""


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    applied: int  # written or deleted
    stale: int  # skipped: the index already held that version or a newer one


class SearchBackend(Protocol):
    name: str

    async def ensure_index(self) -> None:
        """Create the index (and its template or schema) if it does not exist."""

    async def bulk(self, actions: Sequence[IndexAction]) -> BulkOutcome:
        """Apply upserts and deletes, each only if its version is newer than the indexed one.

        Idempotent: applying the same actions again changes nothing."""

    async def search(self, query: SearchQuery) -> SearchResult: ...

    async def suggest(self, prefix: str, visibility: Filter, limit: int) -> list[Suggestion]:
        """Indexed words starting with ``prefix``, with how many visible documents hold them."""

    async def count(self, visibility: Filter) -> int: ...

    async def versions(self) -> dict[str, int]:
        """Every indexed document id with its version (status, tests and checks)."""

    async def rebuild(self) -> Rebuild:
        """Start a new index beside the live one; ``Rebuild.finish`` makes it live."""

    async def close(self) -> None: ...


class Rebuild(Protocol):
    async def bulk(self, actions: Sequence[IndexAction]) -> BulkOutcome: ...

    async def finish(self) -> None:
        """Swap the new index in (readers move atomically) and drop the old one."""

    async def abort(self) -> None: ...
