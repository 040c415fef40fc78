from __future__ import annotations

QUERY = "{ workingGroups(first: 10) { totalCount edges { node { slug } } } }"


async def test_demo_working_groups_need_a_token(gql, demo, issue_token) -> None:
    token = issue_token(demo["orgs"]["alliance-office"], "admin")
    result = await gql(QUERY, token=token)
    assert [e["node"]["slug"] for e in result["data"]["workingGroups"]["edges"]] == [
        "automotive-parts",
        "consumer-electronics",
        "luxury-goods",
    ]
    assert result["data"]["workingGroups"]["totalCount"] == 3
    anonymous = await gql(QUERY)
    assert anonymous["data"] is None
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
