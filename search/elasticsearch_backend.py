"""The production backend: Elasticsearch through the official async client.

Indices are ``<prefix>-v-<timestamp>``, made from the index template ``<prefix>``. Readers
use the alias ``<prefix>``, writers ``<prefix>-write``; a rebuild creates a new index, moves
the write alias to it at once (live updates land there), fills it, then moves the read
alias in one atomic ``_aliases`` call and drops the old index: no downtime. Writes carry
external versions (the change-log sequence number), so replays and late writes never
overwrite something newer. Paging is ``search_after`` on (score or date, id).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import (
    ApiError,
    AsyncElasticsearch,
    NotFoundError,
    TransportError,
)

from alliance.sharing.policy import Filter
from search import elasticsearch_bodies as bodies
from search.analysis import plain_words
from search.backend import BulkOutcome, SearchUnavailable
from search.query import IndexAction, SearchQuery, SearchResult, Suggestion

DEFAULT_PREFIX = "alliance-search"
JSON = {"accept": "application/json", "content-type": "application/json"}
NDJSON = {"accept": "application/json", "content-type": "application/x-ndjson"}


def _unavailable(exc: Exception) -> SearchUnavailable:
    return SearchUnavailable(f"Elasticsearch: {type(exc).__name__}: {str(exc)[:300]}")


class ElasticsearchBackend:
    name = "elasticsearch"

    def __init__(
        self, client: AsyncElasticsearch, *, prefix: str = DEFAULT_PREFIX, refresh: bool = False
    ):
        self.client = client
        self.prefix = prefix
        self.read_alias = prefix
        self.write_alias = f"{prefix}-write"
        # Tests read their own writes at once; production lets the refresh interval do it.
        self.refresh = refresh

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> ElasticsearchBackend:
        client = AsyncElasticsearch(
            url, node_class="httpxasync", request_timeout=10, max_retries=1, retry_on_timeout=True
        )
        return cls(client, **kwargs)

    async def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        ndjson: bool = False,
        params: dict[str, Any] | None = None,
    ) -> Any:
        try:
            response = await self.client.perform_request(
                method, path, body=body, headers=NDJSON if ndjson else JSON, params=params
            )
        except NotFoundError:
            raise
        except (TransportConnectionError, ConnectionTimeout, TransportError) as exc:
            raise _unavailable(exc) from exc
        except ApiError as exc:
            if exc.status_code >= 500 or exc.status_code == 429:
                raise _unavailable(exc) from exc
            raise
        return response.body

    def new_index_name(self) -> str:
        return f"{self.prefix}-v-{datetime.now(UTC):%Y%m%d%H%M%S%f}"

    async def _indices_of(self, alias: str) -> list[str]:
        try:
            found = await self._request("GET", f"/_alias/{alias}")
        except NotFoundError:
            return []
        return sorted(found)

    async def ensure_index(self) -> None:
        await self._request(
            "PUT", f"/_index_template/{self.prefix}", bodies.index_template(self.prefix)
        )
        if not await self._indices_of(self.read_alias):
            await self._request(
                "PUT",
                f"/{self.new_index_name()}",
                bodies.create_index(self.read_alias, self.write_alias),
            )

    async def bulk(self, actions: Sequence[IndexAction]) -> BulkOutcome:
        return await self._bulk(self.write_alias, list(actions))

    async def _bulk(self, index: str, actions: list[IndexAction]) -> BulkOutcome:
        if not actions:
            return BulkOutcome(0, 0)
        params = {"refresh": "true"} if self.refresh else None
        response = await self._request(
            "POST", "/_bulk", bodies.bulk_lines(index, actions), ndjson=True, params=params
        )
        applied = stale = 0
        failures = []
        for item in response.get("items", []):
            (result,) = item.values()
            status = int(result.get("status", 500))
            if status == 409:  # the index holds this version or a newer one
                stale += 1
            elif status < 300 or (status == 404 and "delete" in item):
                applied += 1
            else:
                failures.append(result)
        if failures:
            raise SearchUnavailable(
                f"Elasticsearch refused {len(failures)} of {len(actions)} writes: "
                f"{json.dumps(failures[0].get('error'))[:300]}"
            )
        return BulkOutcome(applied, stale)

    async def search(self, query: SearchQuery) -> SearchResult:
        body = bodies.search_body(query)
        response = await self._request("POST", f"/{self.read_alias}/_search", body)
        return bodies.parse_search(query, response)

    async def suggest(self, prefix: str, visibility: Filter, limit: int) -> list[Suggestion]:
        words = plain_words(prefix)
        if not words or limit <= 0:
            return []
        body = bodies.suggest_body(words[-1], visibility, limit)
        response = await self._request("POST", f"/{self.read_alias}/_search", body)
        return bodies.parse_suggest(response)

    async def count(self, visibility: Filter) -> int:
        response = await self._request(
            "POST", f"/{self.read_alias}/_count", bodies.count_body(visibility)
        )
        return int(response["count"])

    async def versions(self) -> dict[str, int]:
        found: dict[str, int] = {}
        after: list[Any] | None = None
        while True:
            response = await self._request(
                "POST", f"/{self.read_alias}/_search", bodies.versions_body(after)
            )
            hits = response["hits"]["hits"]
            for hit in hits:
                found[hit["_source"]["id"]] = int(hit["_source"]["version"])
            if len(hits) < 1000:
                return found
            after = hits[-1]["sort"]

    async def rebuild(self) -> ElasticsearchRebuild:
        # The template first: a rebuild is how new mappings or analyzers reach the index.
        await self._request(
            "PUT", f"/_index_template/{self.prefix}", bodies.index_template(self.prefix)
        )
        old = await self._indices_of(self.read_alias)
        writing = await self._indices_of(self.write_alias)
        new = self.new_index_name()
        await self._request("PUT", f"/{new}", bodies.create_index())
        await self._request(
            "POST",
            "/_aliases",
            bodies.alias_actions(
                *[("remove", i, self.write_alias) for i in writing], ("add", new, self.write_alias)
            ),
        )
        return ElasticsearchRebuild(self, new, old)

    async def drop(self) -> None:
        """Delete every index of this prefix and its template (tests)."""
        for index in await self._indices_of(self.read_alias) + await self._indices_of(
            self.write_alias
        ):
            try:
                await self._request("DELETE", f"/{index}")
            except NotFoundError:
                pass
        try:
            await self._request("DELETE", f"/_index_template/{self.prefix}")
        except NotFoundError:
            pass

    async def close(self) -> None:
        await self.client.close()


class ElasticsearchRebuild:
    def __init__(self, backend: ElasticsearchBackend, index: str, old: list[str]) -> None:
        self.backend, self.index, self.old = backend, index, old

    async def bulk(self, actions: Sequence[IndexAction]) -> BulkOutcome:
        return await self.backend._bulk(self.index, list(actions))

    async def finish(self) -> None:
        b = self.backend
        if b.refresh:
            await b._request("POST", f"/{self.index}/_refresh")
        await b._request(
            "POST",
            "/_aliases",
            bodies.alias_actions(
                *[("remove", i, b.read_alias) for i in self.old],
                ("add", self.index, b.read_alias),
                *[("remove_index", i, None) for i in self.old],
            ),
        )

    async def abort(self) -> None:
        b = self.backend
        await b._request(
            "POST",
            "/_aliases",
            bodies.alias_actions(
                *[("add", i, b.write_alias) for i in self.old[:1]],
                ("remove_index", self.index, None),
            ),
        )
