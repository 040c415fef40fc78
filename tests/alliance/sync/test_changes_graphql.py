"""The GraphQL side of the feed: `changes` by working-group slug, count-only, validated
kinds, and cursors shared with GET /v1/changes."""

from __future__ import annotations

import json
from typing import Any

import httpx

from schema.relay import to_global_id

CHANGES = """
query ($after: String, $first: Int, $kinds: [String!], $groups: [String!], $ids: [ID!]) {
  changes(after: $after, first: $first, kinds: $kinds, workingGroups: $groups,
          workingGroupIds: $ids) {
    totalCount
    edges { cursor node { cursor seq objectId operation } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
COUNT_ONLY = """
query ($kinds: [String!], $groups: [String!]) {
  changes(kinds: $kinds, workingGroups: $groups) { totalCount }
}
"""
KINDS = ["feedtest.a", "feedtest.b"]


async def changes(gql: Any, token: str, **variables: Any) -> dict[str, Any]:
    answer = await gql(CHANGES, variables, token)
    assert "errors" not in answer, answer
    return answer["data"]["changes"]  # type: ignore[no-any-return]


async def test_working_groups_may_be_named_by_slug(gql: Any, world: dict[str, Any]) -> None:
    group = world["groups"]["automotive-parts"]
    by_slug = await changes(gql, world["shopmart"], kinds=KINDS, groups=["automotive-parts"])
    by_id = await changes(
        gql, world["shopmart"], kinds=KINDS, ids=[to_global_id("WorkingGroup", group.id)]
    )
    assert [e["node"]["objectId"] for e in by_slug["edges"]] == [world["ids"]["group"]]
    assert by_slug == by_id
    unknown = await gql(CHANGES, {"groups": ["no-such-group"]}, world["shopmart"])
    assert unknown["data"] is None
    (error,) = unknown["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["fields"][0]["code"] == "NOT_FOUND"


async def test_count_only_answers_the_total_without_a_page(gql: Any, world: dict[str, Any]) -> None:
    listed = await changes(gql, world["luxe"], kinds=KINDS, first=100)
    answer = await gql(COUNT_ONLY, {"kinds": KINDS}, world["luxe"])
    assert answer == {"data": {"changes": {"totalCount": len(listed["edges"])}}}
    assert listed["totalCount"] == len(listed["edges"])
    grouped = await gql(
        COUNT_ONLY, {"kinds": KINDS, "groups": ["automotive-parts"]}, world["shopmart"]
    )
    assert grouped["data"]["changes"]["totalCount"] == 1


async def test_kinds_are_validated(gql: Any, world: dict[str, Any]) -> None:
    for kinds, code in (([" not a kind"], "INVALID"), ([f"k{i}" for i in range(51)], "TOO_MANY")):
        answer = await gql(CHANGES, {"kinds": kinds}, world["luxe"])
        (error,) = answer["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["fields"] == [
            {
                "path": ["kinds"],
                "code": code,
                "message": error["extensions"]["fields"][0]["message"],
            }
        ]


async def test_graphql_and_ndjson_cursors_are_interchangeable(
    gql: Any, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    page = await changes(gql, world["luxe"], kinds=KINDS, first=2)
    first, second = page["edges"]
    assert first["cursor"] == first["node"]["cursor"]
    response = await client.get(
        "/v1/changes",
        params={"kinds": ",".join(KINDS), "after": first["cursor"]},
        headers={"Authorization": f"Bearer {world['luxe']}"},
    )
    lines = [json.loads(x) for x in response.text.splitlines()]
    assert lines[0]["cursor"] == second["cursor"]
    assert str(lines[0]["seq"]) == second["node"]["seq"]
    rest = await changes(gql, world["luxe"], kinds=KINDS, after=lines[0]["cursor"], first=100)
    assert [e["cursor"] for e in rest["edges"]] == [x["cursor"] for x in lines[1:-1]]
