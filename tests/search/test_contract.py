"""The search contract every backend keeps: text analysis, versions, visibility inside the
engine query, facets, filters and paging. Runs on Tantivy always and on Elasticsearch where
``ALLIANCE_TEST_ELASTICSEARCH_URL`` is set (see ``conftest``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from alliance.search.documents import SearchDocument
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import AllOf, Viewer, search_filter
from search.backend import SearchBackend
from search.query import Delete, FacetName, SearchFilters, SearchQuery, Upsert
from tests.alliance.sharing.matrix import EDGE_CASES, GROUP, OWNER, RELATIONS, expected

EVERYONE = AllOf(())  # a filter that admits every document (not a viewer's)
MEMBER = search_filter(Viewer.member(uuid.uuid4()))  # sees ALLIANCE and FEDERATION
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def doc(object_id: str, title: str, body: str = "", **kw: Any) -> SearchDocument:
    kw.setdefault("distribution", Distribution.ALLIANCE)
    kw.setdefault("tlp", TLP.GREEN)
    kw.setdefault("updated_at", T0)
    kw.setdefault("kind", "indicator.assertion")
    return SearchDocument(object_id=object_id, title=title, body=body, **kw)


async def found(backend: SearchBackend, text: str, visibility=MEMBER, **kw: Any) -> list[str]:
    result = await backend.search(SearchQuery(text, visibility, limit=100, **kw))
    return [h.object_id for h in result.hits]


@pytest.fixture
async def corpus(search_backend: SearchBackend) -> SearchBackend:
    docs = [
        doc("airbag", "Counterfeit airbags", "Fake airbag modules sold as genuine parts"),
        doc("cjk", "假冒汽车安全气囊", "网店销售假冒安全气囊"),
        doc("nike", "Nike running shoes", "replica sneakers"),
        doc("cafe", "Café Noir perfume", "luxury fragrance copies"),
        doc("brake", "Brake pads", "genuine brake pads guide; pads brake wear"),
        doc("ja", "偽物のエアバッグ", "通販サイト"),
    ]
    await search_backend.bulk([Upsert(d, 1) for d in docs])
    return search_backend


async def test_english_stemming_and_ascii_folding(corpus: SearchBackend) -> None:
    assert await found(corpus, "airbag") == ["airbag"]
    assert await found(corpus, "counterfeiting AIRBAGS") == ["airbag"]
    assert await found(corpus, "cafe") == ["cafe"]
    assert await found(corpus, "café") == ["cafe"]
    assert await found(corpus, "run") == ["nike"]


async def test_chinese_and_japanese_by_bigrams(corpus: SearchBackend) -> None:
    assert await found(corpus, "安全气囊") == ["cjk"]
    assert await found(corpus, "气囊安全") == []  # the bigrams must follow each other
    assert await found(corpus, "エアバッグ") == ["ja"]


async def test_confusable_letters_of_other_scripts_match(corpus: SearchBackend) -> None:
    assert await found(corpus, "Nіke") == ["nike"]  # Cyrillic і
    await corpus.bulk([Upsert(doc("fake-nike", "Nіke outlet store"), 1)])
    assert set(await found(corpus, "nike")) == {"nike", "fake-nike"}


async def test_fuzzy_matching_forgives_one_or_two_typos(corpus: SearchBackend) -> None:
    assert await found(corpus, "airbga") == ["airbag"]  # one transposition
    assert await found(corpus, "counterfiet") == ["airbag"]
    assert await found(corpus, "parfume") == ["cafe"]
    assert await found(corpus, "xyzzyq") == []


async def test_phrases_keep_their_order(corpus: SearchBackend) -> None:
    assert await found(corpus, '"brake pads"') == ["brake"]
    assert await found(corpus, '"airbag modules"') == ["airbag"]
    assert await found(corpus, '"modules airbag"') == []


async def test_every_word_must_match(corpus: SearchBackend) -> None:
    assert await found(corpus, "airbag genuine") == ["airbag"]
    assert await found(corpus, "airbag perfume") == []


async def test_hits_carry_scores_and_highlights(corpus: SearchBackend) -> None:
    result = await corpus.search(SearchQuery("airbag", MEMBER))
    (hit,) = result.hits
    assert hit.kind == "indicator.assertion"
    assert hit.score > 0
    fields = {h.field: h.fragments for h in hit.highlights}
    assert "<em>airbags</em>" in fields["title"][0]
    assert "<em>airbag</em>" in fields["body"][0]
    (cjk,) = (await corpus.search(SearchQuery("安全气囊", MEMBER))).hits
    assert any("<em>" in f for h in cjk.highlights for f in h.fragments)


async def test_versions_make_writes_idempotent_and_ordered(search_backend: SearchBackend) -> None:
    v3 = doc("x", "Version three")
    v5 = doc("x", "Version five")
    first = await search_backend.bulk([Upsert(v5, 5)])
    assert first.applied == 1
    again = await search_backend.bulk([Upsert(v5, 5), Upsert(v3, 3)])
    assert again.applied == 0
    assert again.stale == 2
    assert await found(search_backend, "five") == ["x"]
    assert await search_backend.versions() == {"indicator.assertion:x": 5}
    # A delete outranks older upserts, even replayed after it.
    await search_backend.bulk([Delete("indicator.assertion:x", 6)])
    await search_backend.bulk([Upsert(v5, 5)])
    assert await search_backend.versions() == {}
    assert await found(search_backend, "five") == []
    await search_backend.bulk([Upsert(doc("x", "Version seven"), 7)])
    assert await found(search_backend, "seven") == ["x"]


async def test_hits_name_their_kind_and_object_exactly(search_backend: SearchBackend) -> None:
    # Colons inside an object id must not move the split between kind and id.
    odd = doc("urn:case:42", "Counterfeit airbags", kind="guide")
    plain = doc("42", "Counterfeit airbag covers")
    await search_backend.bulk([Upsert(odd, 3), Upsert(plain, 4)])
    result = await search_backend.search(SearchQuery("airbag", MEMBER, limit=10))
    assert {(h.kind, h.object_id) for h in result.hits} == {
        ("guide", "urn:case:42"),
        ("indicator.assertion", "42"),
    }
    assert await search_backend.versions() == {
        "guide:urn:case:42": 3,
        "indicator.assertion:42": 4,
    }


async def test_update_times_in_any_offset_filter_as_the_same_instant(
    search_backend: SearchBackend,
) -> None:
    east = timezone(timedelta(hours=5))
    await search_backend.bulk(
        [
            Upsert(doc("utc", "Fake watch", updated_at=T0), 1),
            Upsert(doc("east", "Fake watch", updated_at=T0.astimezone(east)), 1),
            Upsert(doc("later", "Fake watch", updated_at=T0 + timedelta(hours=1)), 1),
        ]
    )
    window = SearchFilters(
        updated_after=T0 - timedelta(minutes=1), updated_before=T0 + timedelta(minutes=1)
    )
    assert set(await found(search_backend, "watch", filters=window)) == {"utc", "east"}


async def test_update_time_bounds_exclude_the_bound_itself_to_the_millisecond(
    search_backend: SearchBackend,
) -> None:
    ms = timedelta(milliseconds=1)
    await search_backend.bulk(
        [
            Upsert(doc("before", "Fake watch", updated_at=T0 - ms), 1),
            Upsert(doc("at", "Fake watch", updated_at=T0), 1),
            Upsert(doc("after", "Fake watch", updated_at=T0 + ms), 1),
        ]
    )
    after = SearchFilters(updated_after=T0)
    before = SearchFilters(updated_before=T0)
    assert set(await found(search_backend, "watch", filters=after)) == {"after"}
    assert set(await found(search_backend, "watch", filters=before)) == {"before"}
    # Without a text query, hits come newest first.
    assert await found(search_backend, "", visibility=MEMBER) == ["after", "at", "before"]


# --- visibility -------------------------------------------------------------------------------


def matrix_docs() -> list[SearchDocument]:
    docs = [
        doc(
            f"{d.value}/{t.value}",
            f"Matrix object {d.value} {t.value}",
            owner_org_id=OWNER,
            working_group_id=GROUP,
            distribution=d,
            tlp=t,
        )
        for d in Distribution
        for t in TLP
    ]
    docs += [
        doc(
            f"edge-{i}",
            f"Matrix edge {i}",
            owner_org_id=v.owner_org_id,
            working_group_id=v.working_group_id,
            distribution=v.distribution,
            tlp=v.tlp,
        )
        for i, (v, _who) in enumerate(EDGE_CASES)
    ]
    return docs


@pytest.mark.parametrize("relation", list(RELATIONS))
async def test_the_visibility_matrix_inside_the_engine_query(
    search_backend: SearchBackend, relation: str
) -> None:
    await search_backend.bulk([Upsert(d, 1) for d in matrix_docs()])
    want = {f"{d.value}/{t.value}" for d in Distribution for t in TLP if expected(d, t)[relation]}
    want |= {f"edge-{i}" for i, (_v, who) in enumerate(EDGE_CASES) if relation in who}
    visibility = search_filter(RELATIONS[relation])
    for text in ("", "matrix"):
        result = await search_backend.search(SearchQuery(text, visibility, limit=100))
        assert {h.object_id for h in result.hits} == want, text
        assert result.total == len(want)
        tlps = {f.value: f.count for f in result.facets[FacetName.TLP]}
        assert sum(tlps.values()) == len(want)
    assert await search_backend.count(visibility) == len(want)


async def test_pages_stay_full_when_most_documents_are_invisible(
    search_backend: SearchBackend,
) -> None:
    """95% of the documents belong to another organisation: the engine filters before it
    pages, so every page is full, and totals and facets count only what the viewer sees."""
    mine, other = uuid.uuid4(), uuid.uuid4()
    docs = [
        doc(
            f"d{i:04d}",
            f"Seller account {i}",
            owner_org_id=mine if i % 20 == 0 else other,
            distribution=Distribution.ORGANISATION,
            brands=("acme",) if i % 40 == 0 else ("luxe",),
            type="SELLER_ACCOUNT",
            updated_at=T0 + timedelta(minutes=i),
        )
        for i in range(1000)
    ]
    await search_backend.bulk([Upsert(d, 1) for d in docs])
    visible = {d.object_id for d in docs if d.owner_org_id == mine}
    assert len(visible) == 50
    viewer = search_filter(Viewer.member(mine))
    for text in ("seller account", ""):
        seen: list[str] = []
        after = None
        while True:
            result = await search_backend.search(SearchQuery(text, viewer, limit=10, after=after))
            assert result.total == 50
            if result.next_cursor is not None:
                assert len(result.hits) == 10, "a page came back short"
            seen += [h.object_id for h in result.hits]
            after = result.next_cursor
            if after is None:
                break
        assert len(seen) == len(set(seen)) == 50
        assert set(seen) == visible
        facets = result.facets
        assert {f.value: f.count for f in facets[FacetName.BRAND]} == {"acme": 25, "luxe": 25}
        assert {f.value: f.count for f in facets[FacetName.TYPE]} == {"SELLER_ACCOUNT": 50}
        assert {f.value: f.count for f in facets[FacetName.KIND]} == {"indicator.assertion": 50}


async def test_whole_values_with_spaces_and_percent_signs_filter_and_count_as_given(
    search_backend: SearchBackend,
) -> None:
    await search_backend.bulk(
        [
            Upsert(doc("a", "Fake parts", type="automotive parts", language="en"), 1),
            Upsert(doc("b", "Fake parts", type="100% cotton", language="x y"), 1),
            Upsert(doc("c", "Fake parts", type="100%25 cotton", language="x%20y"), 1),
        ]
    )

    async def hits(**kw: Any) -> set[str]:
        return set(await found(search_backend, "parts", filters=SearchFilters(**kw)))

    assert await hits(types=("automotive parts",)) == {"a"}
    assert await hits(types=("automotive",)) == set()
    assert await hits(types=("100% cotton",)) == {"b"}
    assert await hits(types=("100%25 cotton",)) == {"c"}
    assert await hits(languages=("x y",)) == {"b"}
    assert await hits(languages=("x%20y",)) == {"c"}
    result = await search_backend.search(SearchQuery("parts", MEMBER))
    assert {f.value: f.count for f in result.facets[FacetName.TYPE]} == {
        "automotive parts": 1,
        "100% cotton": 1,
        "100%25 cotton": 1,
    }
    assert result.total == 3


async def test_facets_are_most_frequent_first(search_backend: SearchBackend) -> None:
    statuses = ["ACTIVE"] * 3 + ["DISPUTED"] * 2 + ["REVOKED"]
    await search_backend.bulk(
        [Upsert(doc(f"s{i}", "Fake parts", status=s), 1) for i, s in enumerate(statuses)]
    )
    result = await search_backend.search(SearchQuery("parts", MEMBER))
    assert [(f.value, f.count) for f in result.facets[FacetName.STATUS]] == [
        ("ACTIVE", 3),
        ("DISPUTED", 2),
        ("REVOKED", 1),
    ]
    assert [(f.value, f.count) for f in result.facets[FacetName.TLP]] == [("GREEN", 6)]


async def test_browsing_without_text_is_newest_first(search_backend: SearchBackend) -> None:
    await search_backend.bulk(
        [Upsert(doc(f"n{i}", f"Item {i}", updated_at=T0 + timedelta(days=i)), 1) for i in range(5)]
    )
    assert await found(search_backend, "") == ["n4", "n3", "n2", "n1", "n0"]


async def test_filters_narrow_inside_the_query(search_backend: SearchBackend) -> None:
    group = uuid.uuid4()
    await search_backend.bulk(
        [
            Upsert(doc("a", "Fake parts", type="DOMAIN", brands=("acme",), status="ACTIVE"), 1),
            Upsert(
                doc(
                    "b",
                    "Fake parts",
                    kind="guide",
                    type="GUIDE",
                    working_group_id=group,
                    tlp=TLP.AMBER,
                    language="zh",
                    updated_at=T0 + timedelta(days=10),
                ),
                1,
            ),
        ]
    )

    async def hits(**filters: Any) -> set[str]:
        return set(await found(search_backend, "fake", filters=SearchFilters(**filters)))

    assert await hits() == {"a", "b"}
    assert await hits(kinds=("guide",)) == {"b"}
    assert await hits(types=("DOMAIN",)) == {"a"}
    assert await hits(brands=("acme",)) == {"a"}
    assert await hits(statuses=("ACTIVE",)) == {"a"}
    assert await hits(tlps=("AMBER",)) == {"b"}
    assert await hits(languages=("zh",)) == {"b"}
    assert await hits(working_group_ids=(str(group),)) == {"b"}
    assert await hits(updated_after=T0 + timedelta(days=1)) == {"b"}
    assert await hits(updated_before=T0 + timedelta(days=1)) == {"a"}
    result = await search_backend.search(SearchQuery("fake", MEMBER))
    assert {f.value: f.count for f in result.facets[FacetName.KIND]} == {
        "indicator.assertion": 1,
        "guide": 1,
    }
    assert {f.value: f.count for f in result.facets[FacetName.WORKING_GROUP]} == {str(group): 1}


async def test_suggestions_complete_a_prefix_from_visible_documents_only(
    search_backend: SearchBackend,
) -> None:
    mine, other = uuid.uuid4(), uuid.uuid4()
    await search_backend.bulk(
        [
            Upsert(doc("1", "Airbag modules"), 1),
            Upsert(doc("2", "Airbag covers"), 1),
            Upsert(doc("3", "Airline tickets"), 1),
            Upsert(
                doc(
                    "4",
                    "Airsoft secret",
                    owner_org_id=other,
                    distribution=Distribution.ORGANISATION,
                ),
                1,
            ),
        ]
    )
    viewer = search_filter(Viewer.member(mine))
    suggestions = await search_backend.suggest("AIR", viewer, 10)
    assert [(s.text, s.count) for s in suggestions] == [("airbag", 2), ("airline", 1)]
    assert await search_backend.suggest("air", search_filter(Viewer.anonymous()), 10) == []
    assert [s.text for s in await search_backend.suggest("airs", EVERYONE, 10)] == ["airsoft"]


async def test_a_rebuild_swaps_in_whole(search_backend: SearchBackend) -> None:
    await search_backend.bulk([Upsert(doc("old", "Old entry"), 1)])
    rebuild = await search_backend.rebuild()
    await rebuild.bulk([Upsert(doc("new", "New entry"), 2)])
    assert await found(search_backend, "entry") == ["old"], (
        "readers see the live index until the swap"
    )
    await rebuild.finish()
    assert await found(search_backend, "entry") == ["new"]


async def test_mixed_scripts_must_match_in_both(corpus: SearchBackend) -> None:
    assert await found(corpus, "假冒 counterfeit") == []  # the CJK doc has no "counterfeit"
    await corpus.bulk([Upsert(doc("mixed", "Counterfeit 安全气囊 sold"), 1)])
    assert await found(corpus, "安全气囊 counterfeit") == ["mixed"]
    assert await found(corpus, "counterfeit安全气囊") == ["mixed"]
