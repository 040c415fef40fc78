"""One contract, every backend: Tantivy always, Elasticsearch where a server is given."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from search.backend import SearchBackend

ES_URL = os.environ.get("ALLIANCE_TEST_ELASTICSEARCH_URL")
NO_ES = "ALLIANCE_TEST_ELASTICSEARCH_URL is not set: the contract runs on Tantivy only"

BACKENDS = [
    pytest.param("tantivy", id="tantivy"),
    pytest.param(
        "elasticsearch",
        id="elasticsearch",
        marks=pytest.mark.skipif(not ES_URL, reason=NO_ES),
    ),
]


async def make_test_backend(name: str, tmp_path: Path) -> SearchBackend:
    if name == "tantivy":
        from search.tantivy_backend import TantivyBackend

        backend: SearchBackend = TantivyBackend(tmp_path / "search")
    else:
        from search.elasticsearch_backend import ElasticsearchBackend

        assert ES_URL
        # A prefix of its own, so parallel runs and old indices never meet.
        backend = ElasticsearchBackend.from_url(
            ES_URL, prefix=f"alliance-test-{uuid.uuid4().hex[:8]}", refresh=True
        )
    await backend.ensure_index()
    return backend


@pytest.fixture(params=BACKENDS)
async def search_backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[SearchBackend]:
    backend = await make_test_backend(request.param, tmp_path)
    try:
        yield backend
    finally:
        if request.param == "elasticsearch":
            await backend.drop()  # type: ignore[attr-defined]
        await backend.close()
