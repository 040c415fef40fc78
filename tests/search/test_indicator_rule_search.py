"""Indicator assertions and rules in ``search``: each found by its words under its own
visibility, with totals and facets counting only what the caller may see, and gone from the
results once revoked."""

from __future__ import annotations

from typing import Any

import pytest

from search import indexer
from tests.schema.indicator_helpers import REVOKE, Api, group_id
from tests.schema.test_rules import ACTIVATE, world  # noqa: F401  (the rules fixture)
from tests.schema.test_rules import create as create_rule

SEARCH = """
query ($q: String!, $kinds: [SearchKind!]) {
  search(query: $q, kinds: $kinds, first: 20) {
    totalCount
    edges { node { __typename
      ... on IndicatorAssertion { id status tlp indicator { value } workingGroup { slug } }
      ... on Rule { id name ruleStatus: status } } }
    facets { kinds { value count } workingGroups { value count } tlp { value count } }
  }
}
"""
VALUE = "+86 138 0013 8000"
NORMALISED = "+8613800138000"


@pytest.fixture
def api(gql: Any, issue_token: Any, demo: dict[str, Any]) -> Any:
    def as_org(slug: str, scopes: str = "indicators:read indicators:write") -> Api:
        return Api(gql, issue_token, demo["orgs"][slug], scopes)

    return as_org


async def found(api: Any, slug: str, q: str, kinds: list[str] | None = None) -> dict[str, Any]:
    return (await api(slug)(SEARCH, q=q, kinds=kinds))["search"]  # type: ignore[no-any-return]


async def test_a_group_indicator_is_found_by_its_members_only_and_goes_when_revoked(
    api: Any, demo: dict[str, Any], sessions: Any, app: Any
) -> None:
    acme = api("acme-motors")
    submitted = await acme.submit(
        type="PHONE",
        value=VALUE,
        distribution="WORKING_GROUP",
        workingGroupId=group_id(demo, "automotive-parts"),
        tlp="AMBER",
        note="reseller of fake brake pads",
    )
    assertion_id = submitted["assertion"]["id"]
    await indexer.drain(sessions, app.state.search)

    member = await found(api, "city-police", NORMALISED)
    (edge,) = member["edges"]
    assert edge["node"]["__typename"] == "IndicatorAssertion"
    assert edge["node"]["id"] == assertion_id
    assert edge["node"]["indicator"]["value"] == NORMALISED
    assert edge["node"]["workingGroup"]["slug"] == "automotive-parts"
    assert member["totalCount"] == 1
    assert member["facets"]["kinds"] == [{"value": "INDICATOR_ASSERTION", "count": 1}]
    assert member["facets"]["tlp"] == [{"value": "AMBER", "count": 1}]
    assert member["facets"]["workingGroups"] == [
        {"value": group_id(demo, "automotive-parts"), "count": 1}
    ]
    by_note = await found(api, "shopmart", "brake pads", ["INDICATOR_ASSERTION"])
    assert [e["node"]["id"] for e in by_note["edges"]] == [assertion_id]

    report = await indexer.reindex(sessions, app.state.search)  # list_all finds it again
    assert report.documents == len(demo["orgs"]) + len(demo["groups"]) + 1
    assert (await found(api, "city-police", NORMALISED))["totalCount"] == 1

    outsider = await found(api, "luxe-house", NORMALISED)
    assert (outsider["totalCount"], outsider["edges"]) == (0, [])
    assert outsider["facets"]["kinds"] == []
    assert outsider["facets"]["tlp"] == []
    assert (await found(api, "luxe-house", "brake pads", ["INDICATOR_ASSERTION"]))[
        "totalCount"
    ] == 0

    revoked = await acme.mutate(
        REVOKE, "revokeAssertion", {"assertionId": assertion_id, "reason": "TAKEN_DOWN"}
    )
    assert revoked["assertion"]["status"] == "REVOKED"
    await indexer.drain(sessions, app.state.search)
    after = await found(api, "acme-motors", NORMALISED)
    assert (after["totalCount"], after["edges"], after["facets"]["kinds"]) == (0, [], [])


async def test_an_active_rule_is_found_by_a_word_of_its_name(
    gql: Any,
    world: dict[str, Any],  # noqa: F811
    api: Any,
    sessions: Any,
    app: Any,
) -> None:
    created = await create_rule(gql, world, distribution="WORKING_GROUP")
    rule_id = created["rule"]["id"]
    active = await gql(ACTIVATE, {"input": {"ruleId": rule_id}}, world["chair"])
    assert active["data"]["activateRule"]["rule"]["status"] == "ACTIVE"
    await indexer.drain(sessions, app.state.search)

    hits = (await gql(SEARCH, {"q": "restraint", "kinds": None}, world["reader"]))["data"]["search"]
    assert [(e["node"]["__typename"], e["node"]["id"]) for e in hits["edges"]] == [
        ("Rule", rule_id)
    ]
    assert hits["edges"][0]["node"]["ruleStatus"] == "ACTIVE"
    assert hits["totalCount"] == 1
    assert hits["facets"]["kinds"] == [{"value": "RULE", "count": 1}]
    outsider = (await gql(SEARCH, {"q": "restraint"}, world["outsider"]))["data"]["search"]
    assert (outsider["totalCount"], outsider["edges"]) == (0, [])
