"""The Elasticsearch backend without a server: every body it builds is valid against Elastic's
published OpenAPI description (``../shared/elasticsearch``), and the real async client, run
against a stand-in at the transport's edge, creates, writes, pages, filters, counts and swaps
aliases as the contract says, parsing responses shaped per that description."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch

from alliance.search.documents import SearchDocument
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import AllOf, Viewer, search_filter
from search import elasticsearch_bodies as bodies
from search.backend import SearchUnavailable
from search.elasticsearch_backend import ElasticsearchBackend
from search.query import Delete, FacetName, SearchFilters, SearchQuery, Upsert
from tests.alliance.sharing.matrix import EDGE_CASES, GROUP, OWNER, RELATIONS, expected
from tests.search.es_spec import load_spec, request_errors, response_errors
from tests.search.fake_elasticsearch import Cluster

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    shared = Path(__file__).resolve().parents[3] / "shared"
    if not (shared / "elasticsearch" / "elasticsearch-serverless-openapi.json").is_file():
        pytest.skip("../shared/elasticsearch is absent (a user's clone has no ../shared)")
    return load_spec(shared)


def doc(object_id: str, title: str = "Fake airbag", **kw: Any) -> SearchDocument:
    kw.setdefault("distribution", Distribution.ALLIANCE)
    kw.setdefault("tlp", TLP.GREEN)
    kw.setdefault("updated_at", T0)
    kw.setdefault("kind", "indicator.assertion")
    return SearchDocument(object_id=object_id, title=title, **kw)


VIEWERS = [search_filter(v) for v in RELATIONS.values()]
QUERIES = [SearchQuery("", v) for v in VIEWERS] + [
    SearchQuery('counterfeit "brake pads" 安全气囊 Nіke', VIEWERS[0], limit=5),
    SearchQuery(
        "airbag",
        VIEWERS[1],
        SearchFilters(
            kinds=("indicator.assertion", "guide"),
            working_group_ids=(str(GROUP),),
            types=("DOMAIN",),
            statuses=("ACTIVE",),
            brands=("acme",),
            tlps=("AMBER",),
            languages=("en",),
            updated_after=T0,
            updated_before=T0 + timedelta(days=3),
        ),
        after='s:[3.25,"indicator.assertion:x"]',
    ),
    SearchQuery("", VIEWERS[2], after='s:["2026-01-01T00:00:00+00:00","organisation:y"]'),
    SearchQuery("x", VIEWERS[3], facets=False, highlight=False),
]


@pytest.mark.parametrize("query", QUERIES)
def test_search_bodies_are_valid(spec: dict[str, Any], query: SearchQuery) -> None:
    assert request_errors(spec, "POST", "/alliance-search/_search", bodies.search_body(query)) == []


def test_index_template_creation_aliases_and_bulk_are_valid(spec: dict[str, Any]) -> None:
    assert request_errors(spec, "PUT", "/_index_template/a", bodies.index_template("a")) == []
    assert request_errors(spec, "PUT", "/a-v-1", bodies.create_index("a", "a-write")) == []
    assert request_errors(spec, "PUT", "/a-v-2", bodies.create_index()) == []
    swap = bodies.alias_actions(
        ("remove", "a-v-1", "a"),
        ("add", "a-v-2", "a"),
        ("add", "a-v-2", "a-write"),
        ("remove_index", "a-v-1", None),
    )
    assert request_errors(spec, "POST", "/_aliases", swap) == []
    lines = bodies.bulk_lines(
        "a-write",
        [
            Upsert(
                doc(
                    "1",
                    "假冒汽车安全气囊",
                    owner_org_id=OWNER,
                    working_group_id=GROUP,
                    brands=("acme",),
                    type="DOMAIN",
                    status="ACTIVE",
                    language="zh",
                ),
                7,
            ),
            Delete("indicator.assertion:2", 8),
        ],
    )
    assert request_errors(spec, "POST", "/_bulk", lines) == []
    assert lines[0]["index"]["version_type"] == "external"
    assert lines[0]["index"]["version"] == 7
    assert lines[2] == {
        "delete": {
            "_index": "a-write",
            "_id": "indicator.assertion:2",
            "version": 8,
            "version_type": "external",
        }
    }
    for viewer in VIEWERS:
        assert (
            request_errors(spec, "POST", "/a/_search", bodies.suggest_body("air", viewer, 5)) == []
        )
        assert request_errors(spec, "POST", "/a/_count", bodies.count_body(viewer)) == []
    assert request_errors(spec, "POST", "/a/_search", bodies.versions_body(["x"])) == []


def test_the_validation_catches_misspelt_bodies(spec: dict[str, Any]) -> None:
    """Guards the guard: the specification is applied strictly."""
    assert request_errors(spec, "POST", "/a/_search", {"query": {"match_al": {}}})
    assert request_errors(spec, "POST", "/a/_search", {"sort": [{"id": {"ordr": "asc"}}]})
    assert request_errors(spec, "POST", "/a/_search", {"size": "ten"})
    assert request_errors(spec, "POST", "/a/_search", {"highlight": {"feilds": {}}})
    assert request_errors(spec, "POST", "/_aliases", {"actions": [{"ad": {"index": "i"}}]})
    assert request_errors(
        spec, "POST", "/_bulk", [{"index": {"_id": "1", "version_type": "outside"}}, {}]
    )
    template = bodies.index_template("a")
    template["template"]["settings"]["analysis"]["analyzer"]["alliance_text"]["tokenizr"] = "x"
    assert request_errors(spec, "PUT", "/_index_template/a", template)


def test_responses_shaped_per_the_description_parse(spec: dict[str, Any]) -> None:
    query = SearchQuery("airbag", VIEWERS[0], limit=1)
    response = {
        "took": 3,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {
            "total": {"value": 2, "relation": "eq"},
            "max_score": 2.5,
            "hits": [
                {
                    "_index": "i",
                    "_id": f"indicator.assertion:{n}",
                    "_score": 2.5 - n,
                    "_source": {"kind": "indicator.assertion", "object_id": str(n)},
                    "highlight": {"title": ["Fake <em>airbag</em>"], "body.cjk": ["<em>安全</em>"]},
                    "sort": [2.5 - n, f"indicator.assertion:{n}"],
                }
                for n in range(2)
            ],
        },
        "aggregations": {
            "kind": {
                "doc_count_error_upper_bound": 0,
                "sum_other_doc_count": 0,
                "buckets": [{"key": "indicator.assertion", "doc_count": 2}],
            },
        },
    }
    assert response_errors(spec, "POST", "/i/_search", 200, response) == []
    result = bodies.parse_search(query, response)
    assert result.total == 2
    (hit,) = result.hits
    assert hit.object_id == "0"
    assert [(h.field, h.fragments) for h in hit.highlights] == [
        ("title", ("Fake <em>airbag</em>",)),
        ("body", ("<em>安全</em>",)),
    ]
    assert result.next_cursor == 's:[2.5,"indicator.assertion:0"]'
    assert result.facets[FacetName.KIND][0].count == 2
    assert bodies.decode_cursor(result.next_cursor) == [2.5, "indicator.assertion:0"]


# --- the client against the stand-in -------------------------------------------------------------


@pytest.fixture
async def cluster(spec: dict[str, Any]):
    cluster = Cluster(spec)
    client = AsyncElasticsearch(
        "http://fake-elasticsearch:9200", node_class=cluster.node_class(), max_retries=0
    )
    backend = ElasticsearchBackend(client, prefix="alliance-test")
    await backend.ensure_index()
    yield cluster, backend
    await backend.close()
    assert cluster.problems == [], "\n".join(cluster.problems)


async def test_a_first_start_creates_template_index_and_both_aliases(cluster) -> None:
    fake, backend = cluster
    assert "alliance-test" in fake.templates
    (index,) = fake.indices
    assert fake.aliases == {"alliance-test": {index: False}, "alliance-test-write": {index: True}}
    await backend.ensure_index()  # a second start creates nothing
    assert list(fake.indices) == [index]


async def test_external_versions_and_the_visibility_matrix(cluster) -> None:
    fake, backend = cluster
    docs = [
        doc(
            f"{d.value}/{t.value}",
            owner_org_id=OWNER,
            working_group_id=GROUP,
            distribution=d,
            tlp=t,
            brands=("acme",),
        )
        for d in Distribution
        for t in TLP
    ] + [
        doc(
            f"edge-{i}",
            owner_org_id=v.owner_org_id,
            working_group_id=v.working_group_id,
            distribution=v.distribution,
            tlp=v.tlp,
        )
        for i, (v, _who) in enumerate(EDGE_CASES)
    ]
    first = await backend.bulk([Upsert(d, 5) for d in docs])
    assert first.applied == len(docs)
    again = await backend.bulk([Upsert(d, 4) for d in docs[:3]])
    assert again.stale == 3
    assert again.applied == 0
    for relation, viewer in RELATIONS.items():
        want = {
            f"{d.value}/{t.value}" for d in Distribution for t in TLP if expected(d, t)[relation]
        }
        want |= {f"edge-{i}" for i, (_v, who) in enumerate(EDGE_CASES) if relation in who}
        seen: list[str] = []
        after = None
        while True:
            result = await backend.search(
                SearchQuery("", search_filter(viewer), limit=4, after=after)
            )
            assert result.total == len(want), relation
            if result.next_cursor:
                assert len(result.hits) == 4
            seen += [h.object_id for h in result.hits]
            after = result.next_cursor
            if after is None:
                break
        assert sorted(seen) == sorted(want), relation
        assert await backend.count(search_filter(viewer)) == len(want)
        brands = {f.value: f.count for f in result.facets[FacetName.BRAND]}
        assert brands == (
            {"acme": sum(1 for n in want if "/" in n)} if any("/" in n for n in want) else {}
        )
    await backend.bulk([Delete(docs[0].doc_id, 6)])
    await backend.bulk([Upsert(docs[0], 5)])  # a late replay of an older write
    versions = await backend.versions()
    assert docs[0].doc_id not in versions
    assert versions[docs[1].doc_id] == 5


async def test_suggestions_count_visible_documents(cluster) -> None:
    _fake, backend = cluster
    other = uuid.uuid4()
    await backend.bulk(
        [
            Upsert(doc("1", "Airbag modules"), 1),
            Upsert(doc("2", "Airbag covers"), 1),
            Upsert(
                doc(
                    "3",
                    "Airsoft secret",
                    owner_org_id=other,
                    distribution=Distribution.ORGANISATION,
                ),
                1,
            ),
        ]
    )
    viewer = search_filter(Viewer.member(uuid.uuid4()))
    assert [(s.text, s.count) for s in await backend.suggest("AIR", viewer, 10)] == [("airbag", 2)]
    assert [s.text for s in await backend.suggest("air", AllOf(()), 10)] == ["airbag", "airsoft"]


async def test_a_rebuild_moves_the_write_alias_first_and_the_read_alias_last(cluster) -> None:
    fake, backend = cluster
    (old,) = fake.indices
    await backend.bulk([Upsert(doc("old"), 1)])
    rebuild = await backend.rebuild()
    new = rebuild.index
    assert fake.aliases["alliance-test-write"] == {new: True}, "live writes go to the new index"
    assert fake.aliases["alliance-test"] == {old: False}, "readers stay on the old one"
    await backend.bulk([Upsert(doc("live"), 9)])
    outcome = await rebuild.bulk([Upsert(doc("old"), 5), Upsert(doc("live"), 5)])
    assert outcome.stale == 1  # the live write (version 9) outranks the rebuild's
    await rebuild.finish()
    assert fake.aliases["alliance-test"] == {new: False}
    assert old not in fake.indices
    assert set(await backend.versions()) == {"indicator.assertion:old", "indicator.assertion:live"}


async def test_an_unreachable_cluster_is_unavailable_not_an_error(cluster) -> None:
    fake, backend = cluster
    fake.down = True
    with pytest.raises(SearchUnavailable):
        await backend.bulk([Upsert(doc("x"), 1)])
    with pytest.raises(SearchUnavailable):
        await backend.search(SearchQuery("", AllOf(())))
    fake.down = False
    assert (await backend.bulk([Upsert(doc("x"), 1)])).applied == 1
