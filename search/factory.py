"""The backend the settings select, built by whoever owns the process (app lifespan,
worker process, CLI command), never at import time."""

from __future__ import annotations

from alliance.config import Settings
from search.backend import SearchBackend
from search.status import backend_of, tantivy_path


def make_backend(settings: Settings) -> SearchBackend:
    url = settings.search_url
    if backend_of(url) == "tantivy":
        from search.tantivy_backend import TantivyBackend

        return TantivyBackend(tantivy_path(url))
    from search.elasticsearch_backend import ElasticsearchBackend

    return ElasticsearchBackend.from_url(url)
