"""``search`` and ``suggest`` over GraphQL: each principal finds exactly what the sharing
policy lets it see, with pages kept full, and totals and facets counting only that."""

from __future__ import annotations

import json
from typing import Any

import pytest

from alliance.db import unit_of_work
from alliance.orgs import service
from alliance.orgs.models import OrganisationKind
from alliance.search.documents import SearchDocument
from alliance.sharing import TLP, Distribution
from search import indexer
from search.query import Upsert
from tests.schema.test_changes import EXPECTED, names
from tests.schema.test_query_counts import recorded_statements

SEARCH = """
query ($q: String!, $kinds: [SearchKind!], $filter: SearchFilter, $first: Int, $after: String) {
  search(query: $q, kinds: $kinds, filter: $filter, first: $first, after: $after) {
    totalCount
    edges { cursor score highlights { field fragments }
      node { __typename ... on Organisation { slug } ... on WorkingGroup { slug } } }
    pageInfo { hasNextPage endCursor }
    facets { kinds { value count } types { value count } workingGroups { value count }
             tlp { value count } statuses { value count } brands { value count } }
  }
}
"""
SUGGEST = "query ($p: String!) { suggest(prefix: $p, first: 5) { text count } }"


@pytest.fixture
async def alliance(demo: dict[str, Any], sessions: Any, app: Any) -> dict[str, Any]:
    """The demo alliance plus an organisation without seats and a peer's, all indexed."""
    async with unit_of_work(sessions) as session:
        for slug, kind in (
            ("fresh-brand", OrganisationKind.BRAND),
            ("northern-alliance", OrganisationKind.ASSOCIATION),
        ):
            demo["orgs"][slug] = await service.create_organisation(
                session, None, service.OrganisationData(slug=slug, name=slug.title(), kind=kind)
            )
    await indexer.drain(sessions, app.state.search)
    return demo


def token_for(relation: str, alliance: dict[str, Any], issue_token: Any) -> str:
    if relation == "peer":
        return issue_token(alliance["orgs"]["northern-alliance"], "federation")
    return issue_token(alliance["orgs"][relation], "indicators:read")


def data(result: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in result, result
    return result["data"]["search"]


async def test_the_directory_is_found_by_words_typos_and_prefixes(
    gql, alliance, issue_token
) -> None:
    token = token_for("shopmart", alliance, issue_token)
    found = data(await gql(SEARCH, {"q": "motors"}, token=token))
    assert [e["node"]["slug"] for e in found["edges"]] == ["acme-motors"]
    (edge,) = found["edges"]
    assert edge["node"]["__typename"] == "Organisation"
    assert edge["score"] > 0
    assert {"field": "title", "fragments": ["Acme <em>Motors</em>"]} in edge["highlights"]
    assert found["facets"]["kinds"] == [{"value": "ORGANISATION", "count": 1}]

    typo = data(await gql(SEARCH, {"q": "automotiv prts"}, token=token))
    assert [e["node"]["slug"] for e in typo["edges"]] == ["automotive-parts"]
    assert typo["edges"][0]["node"]["__typename"] == "WorkingGroup"

    everything = data(await gql(SEARCH, {"q": "", "first": 100}, token=token))
    assert everything["totalCount"] == len(alliance["orgs"]) + len(alliance["groups"])
    kinds = {f["value"]: f["count"] for f in everything["facets"]["kinds"]}
    assert kinds == {"ORGANISATION": len(alliance["orgs"]), "WORKING_GROUP": 3}
    groups_only = data(await gql(SEARCH, {"q": "", "kinds": ["WORKING_GROUP"]}, token=token))
    assert groups_only["totalCount"] == 3

    suggestions = (await gql(SUGGEST, {"p": "Auto"}, token=token))["data"]["suggest"]
    assert {"text": "automotive", "count": 1} in suggestions


async def test_no_token_is_refused_and_a_peer_sees_no_directory(gql, alliance, issue_token) -> None:
    result = await gql(SEARCH, {"q": "motors"})
    assert result["data"] is None
    assert [e["extensions"]["code"] for e in result["errors"]] == ["UNAUTHENTICATED"]
    peer = data(
        await gql(SEARCH, {"q": "", "first": 100}, token=token_for("peer", alliance, issue_token))
    )
    assert peer["totalCount"] == 0
    assert peer["edges"] == []
    assert peer["facets"]["kinds"] == []


@pytest.fixture
async def matrix(alliance: dict[str, Any], sessions: Any, app: Any) -> dict[str, str]:
    """One organisation per distribution × TLP, indexed as if it were owned by acme-motors and
    shared in automotive-parts: the objects are real, the visibility is the matrix's."""
    slugs: dict[str, str] = {}
    documents = []
    async with unit_of_work(sessions) as session:
        for d in Distribution:
            for t in TLP:
                slug = f"matrix-{d.value}-{t.value}".lower().replace("_", "-")
                org = await service.create_organisation(
                    session,
                    None,
                    service.OrganisationData(slug=slug, name=f"Matrix {slug}", kind="BRAND"),
                )
                slugs[slug] = f"{d.value}/{t.value}"
                documents.append(
                    SearchDocument(
                        kind="organisation",
                        object_id=str(org.id),
                        title=f"Matrix entry {d.value} {t.value}",
                        updated_at=org.updated_at,
                        distribution=d,
                        tlp=t,
                        owner_org_id=alliance["orgs"]["acme-motors"].id,
                        working_group_id=alliance["groups"]["automotive-parts"].id,
                        type="MATRIX",
                    )
                )
    # Far above the organisations' own change sequence numbers, so the indexer keeps these.
    await app.state.search.bulk([Upsert(d, 10**9) for d in documents])
    await indexer.drain(sessions, app.state.search)
    return slugs


@pytest.mark.parametrize("relation", list(EXPECTED))
async def test_each_principal_finds_exactly_its_share_and_counts_only_that(
    gql, alliance, matrix, issue_token, relation: str
) -> None:
    token = token_for(relation, alliance, issue_token)
    want = EXPECTED[relation]
    seen: list[str] = []
    after = None
    while True:
        page = data(
            await gql(
                SEARCH,
                {"q": "matrix entry", "first": 3, "after": after, "filter": {"types": ["MATRIX"]}},
                token=token,
            )
        )
        assert page["totalCount"] == len(want)
        if page["pageInfo"]["hasNextPage"]:
            assert len(page["edges"]) == 3, "pages stay full however much is hidden"
        seen += [matrix[e["node"]["slug"]] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert sorted(seen) == sorted(want)
    tlps = {f["value"]: f["count"] for f in page["facets"]["tlp"]}
    assert tlps == {
        t.value: sum(1 for n in want if n.endswith(f"/{t.value}"))
        for t in TLP
        if any(n.endswith(f"/{t.value}") for n in want)
    }
    assert page["facets"]["types"] == ([{"value": "MATRIX", "count": len(want)}] if want else [])


async def test_filters_and_input_errors(gql, alliance, matrix, issue_token) -> None:
    token = token_for("shopmart", alliance, issue_token)
    amber = data(
        await gql(
            SEARCH,
            {"q": "matrix", "filter": {"tlp": ["AMBER"], "types": ["MATRIX"]}, "first": 50},
            token=token,
        )
    )
    assert {matrix[e["node"]["slug"]] for e in amber["edges"]} == names(
        Distribution.WORKING_GROUP,
        Distribution.ALLIANCE,
        Distribution.FEDERATION,
        tlps=(TLP.AMBER,),
    )
    group_id = None
    groups = data(await gql(SEARCH, {"q": "automotive", "kinds": ["WORKING_GROUP"]}, token=token))
    group_id = groups["facets"]["workingGroups"][0]["value"]
    in_group = data(
        await gql(
            SEARCH, {"q": "", "filter": {"workingGroups": [group_id]}, "first": 100}, token=token
        )
    )
    assert in_group["totalCount"] == 1 + len(
        names(Distribution.WORKING_GROUP, Distribution.ALLIANCE, Distribution.FEDERATION)
    )
    bad = await gql(SEARCH, {"q": "x", "after": "bm9wZQ"}, token=token)
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    bad_group = await gql(
        SEARCH, {"q": "x", "filter": {"workingGroups": ["nonsense"]}}, token=token
    )
    assert bad_group["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    for name, moment in (
        ("updatedAfter", "2300-01-01T00:00:00Z"),
        ("updatedBefore", "1800-01-01T00:00:00Z"),
    ):
        far = await gql(SEARCH, {"q": "x", "filter": {name: moment}}, token=token)
        assert far["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", far
        assert name in json.dumps(far["errors"][0]["extensions"]), far
    in_range = data(
        await gql(
            SEARCH, {"q": "", "filter": {"updatedAfter": "2000-01-01T00:00:00Z"}}, token=token
        )
    )
    assert in_range["totalCount"] > 0


async def test_a_page_of_hits_costs_a_fixed_number_of_statements(
    gql, alliance, matrix, issue_token, engine
) -> None:
    token = token_for("acme-motors", alliance, issue_token)
    with recorded_statements(engine) as few:
        small = data(await gql(SEARCH, {"q": "matrix", "first": 2}, token=token))
    with recorded_statements(engine) as many:
        large = data(await gql(SEARCH, {"q": "", "first": 30}, token=token))
    assert len(small["edges"]) == 2
    assert len(large["edges"]) == 30
    assert len(many) <= len(few) + 1  # one batched query per kind on the page, not per hit
