"""Tantivy keeps kinds, types, statuses and TLPs as prefixed tokens of one column; these
are the cases only that layout has."""

from __future__ import annotations

from pathlib import Path

import pytest

from search import tantivy_backend
from search.query import FacetName, SearchQuery, Upsert
from search.tantivy_backend import TantivyBackend
from tests.search.test_contract import MEMBER, doc


async def test_the_total_is_counted_when_the_shared_column_has_more_tokens_than_buckets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = TantivyBackend(tmp_path / "search")
    await backend.ensure_index()
    await backend.bulk([Upsert(doc(f"d{i}", "Fake parts", type=f"T{i}"), 1) for i in range(7)])
    terms = tantivy_backend.FACET_AGGREGATIONS["facets"]["terms"]
    monkeypatch.setitem(terms, "size", 3)
    result = await backend.search(SearchQuery("parts", MEMBER))
    # Three of the eleven distinct tokens came back, so the kinds alone cannot give the total.
    assert sum(len(result.facets[f]) for f in FacetName if f.value in {"kind", "type"}) < 8
    assert result.total == 7
    monkeypatch.setitem(terms, "size", tantivy_backend.FACET_BUCKETS)
    result = await backend.search(SearchQuery("parts", MEMBER))
    assert result.total == 7
    assert len(result.facets[FacetName.TYPE]) == 7
