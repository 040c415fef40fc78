"""What the schema refuses before running (too deep, too costly) and what it hides (our own faults)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import text

MAX_DEPTH = 10  # ALLIANCE_GRAPHQL_MAX_DEPTH's default
MAX_COST = 50_000  # ALLIANCE_GRAPHQL_MAX_COST's default

# Depth counts from 0 at the root field, so the leaf `role` sits at depth 10: the most allowed.
AT_THE_DEPTH_LIMIT = """
{ workingGroups(first: 1) { edges { node { members(first: 1) { edges { node {
    organisation { workingGroups(first: 1) { edges { node { role } } } }
} } } } } } }
"""

ONE_LEVEL_TOO_DEEP = """
{ workingGroups(first: 1) { edges { node { members(first: 1) { edges { node {
    organisation { workingGroups(first: 1) { edges { node { workingGroup { slug } } } } }
} } } } } } }
"""

FAR_TOO_DEEP = """
{ workingGroups(first: 1) { edges { node { members(first: 1) { edges { node {
    organisation { workingGroups(first: 1) { edges { node {
        workingGroup { members(first: 1) { edges { node {
            organisation { workingGroups(first: 1) { edges { node { role } } } }
        } } } }
    } } } }
} } } } } } }
"""

TOO_DEEP_BEHIND_FRAGMENTS = """
query { workingGroups(first: 1) { ...Groups } }
fragment Groups on WorkingGroupConnection { edges { node { members(first: 1) { ...Seats } } } }
fragment Seats on MembershipConnection { edges { node { organisation { ...Orgs } } } }
fragment Orgs on Organisation { workingGroups(first: 1) { edges { node { workingGroup { slug } } } } }
"""

TOO_COSTLY = """
{ workingGroups(first: 100) { edges { node { members(first: 100) { edges { node {
    organisation { workingGroups(first: 100) { edges { node { role } } } }
} } } } } } }
"""

# 100 groups x 100 seats: about 30,000, under the limit.
AFFORDABLE = """
{ workingGroups(first: 100) { edges { node { members(first: 100) { edges { node { role } } } } } } }
"""

TWICE_AFFORDABLE = """
{
  a: workingGroups(first: 100) { edges { node { members(first: 100) { edges { node { role } } } } } }
  b: workingGroups(first: 100) { edges { node { members(first: 100) { edges { node { role } } } } } }
}
"""

# Validation runs before variables are known, so `first: $n` is priced at the maximum page size.
COSTLY_WITH_VARIABLES = """
query ($n: Int) { workingGroups(first: $n) { edges { node { members(first: $n) { edges { node {
    organisation { workingGroups(first: $n) { edges { node { role } } } }
} } } } } } }
"""


def reader(demo: dict[str, Any], issue_token: Any) -> str:
    return issue_token(demo["orgs"]["shopmart"], "indicators:read")


# --- depth ---------------------------------------------------------------------------------


async def test_a_query_at_the_depth_limit_runs(gql, demo, issue_token) -> None:
    result = await gql(AT_THE_DEPTH_LIMIT, token=reader(demo, issue_token))

    assert "errors" not in result, result
    [group] = result["data"]["workingGroups"]["edges"]
    [seat] = group["node"]["members"]["edges"]
    assert seat["node"]["organisation"]["workingGroups"]["edges"][0]["node"]["role"] in (
        "CHAIR",
        "MEMBER",
        "OBSERVER",
    )


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(ONE_LEVEL_TOO_DEEP, id="one-level"),
        pytest.param(FAR_TOO_DEEP, id="far"),
        pytest.param(TOO_DEEP_BEHIND_FRAGMENTS, id="fragments"),
    ],
)
async def test_a_query_deeper_than_the_limit_is_refused(gql, demo, issue_token, query: str) -> None:
    result = await gql(query, token=reader(demo, issue_token))

    assert result["data"] is None
    assert result["errors"]
    for error in result["errors"]:
        assert f"exceeds maximum operation depth of {MAX_DEPTH}" in error["message"]
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_depth_is_checked_before_authentication(gql, demo) -> None:
    """An anonymous caller learns nothing from a refused document, and it never runs."""
    result = await gql(FAR_TOO_DEEP)

    assert result["data"] is None
    assert {e["extensions"]["code"] for e in result["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}


# --- cost ----------------------------------------------------------------------------------


def assert_too_costly(result: dict[str, Any]) -> dict[str, Any]:
    assert result["data"] is None
    assert len(result["errors"]) == 1, result["errors"]
    error = result["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["limit"] == MAX_COST
    assert error["extensions"]["cost"] > MAX_COST
    assert f"exceeds the limit of {MAX_COST}" in error["message"]
    return error


async def test_a_too_costly_query_is_refused(gql, demo, issue_token) -> None:
    error = assert_too_costly(await gql(TOO_COSTLY, token=reader(demo, issue_token)))

    # 100 groups x 100 seats x 100 groups of each seat's organisation.
    assert error["extensions"]["cost"] > 1_000_000


async def test_an_affordable_query_runs(gql, demo, issue_token) -> None:
    result = await gql(AFFORDABLE, token=reader(demo, issue_token))

    assert "errors" not in result, result
    assert len(result["data"]["workingGroups"]["edges"]) == 3


async def test_costs_of_sibling_fields_add_up(gql, demo, issue_token) -> None:
    assert_too_costly(await gql(TWICE_AFFORDABLE, token=reader(demo, issue_token)))


async def test_page_sizes_in_variables_are_priced_at_the_maximum(gql, demo, issue_token) -> None:
    assert_too_costly(await gql(COSTLY_WITH_VARIABLES, {"n": 1}, token=reader(demo, issue_token)))


async def test_cost_is_checked_before_authentication(gql, demo) -> None:
    assert_too_costly(await gql(TOO_COSTLY))


# --- masking unexpected errors -------------------------------------------------------------

GROUPS = "{ workingGroups(first: 5) { totalCount edges { node { slug } } } }"


async def break_the_working_groups_table(session: Any) -> None:
    """Our fault, not the caller's: the table vanishes (until the test's transaction rolls back)."""
    await session.execute(text("ALTER TABLE working_groups RENAME TO working_groups_x"))
    await session.commit()


async def post(client: Any, token: str, headers: dict[str, str] | None = None) -> Any:
    return await client.post(
        "/graphql",
        json={"query": GROUPS},
        headers={"Authorization": f"Bearer {token}", **(headers or {})},
    )


def assert_masked(response: Any, request_id: str) -> None:
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"].startswith("Unexpected error")
    assert request_id in error["message"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    for leak in ("working_groups", "SELECT", "select", "relation", "table", "sqlalchemy", "Error:"):
        assert leak not in response.text


async def test_an_unexpected_error_is_masked_with_the_request_id(
    client, demo, issue_token, session, caplog
) -> None:
    await break_the_working_groups_table(session)

    with caplog.at_level(logging.ERROR, logger="alliance.graphql"):
        response = await post(client, reader(demo, issue_token))

    request_id = response.headers["x-request-id"]
    assert request_id
    assert_masked(response, request_id)
    # The details the caller may not see are in the log, under the same request id.
    [record] = [r for r in caplog.records if r.name == "alliance.graphql"]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert "working_groups" in str(record.exc_info[1])


async def test_a_callers_request_id_is_echoed_and_quoted(
    client, demo, issue_token, session
) -> None:
    await break_the_working_groups_table(session)

    response = await post(client, reader(demo, issue_token), {"X-Request-ID": "test-request-0001"})

    assert response.headers["x-request-id"] == "test-request-0001"
    assert_masked(response, "test-request-0001")


async def test_a_callers_request_id_is_echoed_on_success(client, demo, issue_token) -> None:
    response = await post(client, reader(demo, issue_token), {"X-Request-ID": "test-request-0001"})

    assert response.status_code == 200
    assert response.headers["x-request-id"] == "test-request-0001"
    assert response.json()["data"]["workingGroups"]["totalCount"] == 3


@pytest.mark.parametrize("unusable", ["short", "has spaces in it", "x" * 65, "semi;colon-0001"])
async def test_an_unusable_request_id_is_replaced(client, demo, issue_token, unusable: str) -> None:
    response = await post(client, reader(demo, issue_token), {"X-Request-ID": unusable})

    assert response.status_code == 200
    assert response.headers["x-request-id"] not in ("", unusable)


async def test_requests_get_distinct_ids(client, demo, issue_token) -> None:
    token = reader(demo, issue_token)

    first = await post(client, token)
    second = await post(client, token)

    assert first.headers["x-request-id"] != second.headers["x-request-id"]
