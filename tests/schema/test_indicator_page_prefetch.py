"""A page of indicators is loaded level by level before it is walked: what it says must be
what each indicator says when asked for alone (loaded field by field), and no more."""

from __future__ import annotations

from typing import Any

import pytest

from alliance.db import unit_of_work
from alliance.indicators import service
from alliance.indicators.models import ReactionKind
from alliance.indicators.service import ReactionData
from tests.alliance.indicators.builders import submission

NODE = """
  id value status score confidence organisationsAsserting firstSeenAt lastSeenAt
  assertions(first: 5) {
    totalCount
    edges { node {
      id distribution organisation { slug }
      few: reactions(first: 1) { totalCount edges { node { kind organisation { slug } } } }
      reactions(first: $reactions) {
        totalCount pageInfo { hasNextPage }
        edges { node { kind count organisation { slug } } }
      }
      proposals(first: 5) { totalCount edges { node { state proposer { slug } } } }
    } }
  }
"""

PAGE = f"""
query ($reactions: Int!) {{
  indicators(first: 10) {{ edges {{ node {{ ...Shown }} }} }}
}}
fragment Shown on Indicator {{ {NODE} }}
"""

ONE = f"""
query ($id: ID!, $reactions: Int!) {{ indicator(id: $id) {{ {NODE} }} }}
"""

VALUES = [f"fake-bolts-{n}.shop" for n in range(4)]


@pytest.fixture
async def shared_and_grouped(sessions: Any, demo: dict[str, Any]) -> None:
    """Each value asserted by acme-motors in automotive-parts and by volt-electronics to the
    whole alliance; city-police (in the group) reacts to both, twice to acme's."""
    orgs, groups = demo["orgs"], demo["groups"]
    async with unit_of_work(sessions) as session:
        acme = await service.viewer_of_organisation(session, orgs["acme-motors"].id)
        volt = await service.viewer_of_organisation(session, orgs["volt-electronics"].id)
        police = await service.viewer_of_organisation(session, orgs["city-police"].id)
        grouped = await service.submit(
            session,
            acme,
            [
                submission(
                    type="domain",
                    value=v,
                    distribution="WORKING_GROUP",
                    working_group_id=groups["automotive-parts"].id,
                    confidence=90,
                )
                for v in VALUES
            ],
        )
        shared = await service.submit(
            session,
            volt,
            [
                submission(type="domain", value=v, distribution="ALLIANCE", confidence=40)
                for v in VALUES
            ],
        )
        for result in grouped:
            for kind in (ReactionKind.SEEN_TOO, ReactionKind.OUTDATED):
                await service.react(
                    session, police, result.assertion.id, ReactionData(kind=kind, platform="shopee")
                )
        for result in shared:
            await service.react(
                session,
                police,
                result.assertion.id,
                ReactionData(kind=ReactionKind.SEEN_TOO, platform="shopee", count=2),
            )


async def _page_and_each(gql: Any, token: str) -> tuple[list[Any], list[Any]]:
    page = await gql(PAGE, {"reactions": 5}, token=token)
    assert "errors" not in page, page
    nodes = [e["node"] for e in page["data"]["indicators"]["edges"]]
    alone = []
    for node in nodes:
        one = await gql(ONE, {"id": node["id"], "reactions": 5}, token=token)
        assert "errors" not in one, one
        alone.append(one["data"]["indicator"])
    return nodes, alone


async def test_a_page_says_what_each_indicator_says_alone(
    gql, demo, shared_and_grouped, issue_token
) -> None:
    token = issue_token(demo["orgs"]["city-police"], "indicators:read")

    nodes, alone = await _page_and_each(gql, token)

    assert sorted(n["value"] for n in nodes) == sorted(VALUES)
    assert nodes == alone
    for node in nodes:
        assert node["organisationsAsserting"] == 2
        assert node["confidence"] == 90
        by_owner = {
            a["node"]["organisation"]["slug"]: a["node"] for a in node["assertions"]["edges"]
        }
        assert by_owner["acme-motors"]["reactions"]["totalCount"] == 2
        assert len(by_owner["acme-motors"]["few"]["edges"]) == 1
        assert by_owner["acme-motors"]["few"]["totalCount"] == 2
        assert by_owner["volt-electronics"]["reactions"]["edges"][0]["node"]["count"] == 2


async def test_a_page_shows_an_outsider_nothing_of_the_group(
    gql, demo, shared_and_grouped, issue_token
) -> None:
    """luxe-house sits outside automotive-parts: it sees the indicators through volt's
    assertions only, and none of what was said in the group, whichever way it asks."""
    token = issue_token(demo["orgs"]["luxe-house"], "indicators:read")

    nodes, alone = await _page_and_each(gql, token)

    assert sorted(n["value"] for n in nodes) == sorted(VALUES)
    assert nodes == alone
    for node in nodes:
        assert node["organisationsAsserting"] == 1
        assert node["confidence"] == 40
        assert node["assertions"]["totalCount"] == 1
        [edge] = node["assertions"]["edges"]
        assert edge["node"]["organisation"]["slug"] == "volt-electronics"
        assert edge["node"]["distribution"] == "ALLIANCE"
        kinds = [r["node"]["kind"] for r in edge["node"]["reactions"]["edges"]]
        assert kinds == ["SEEN_TOO"]


async def test_a_bad_nested_window_is_an_error_at_its_own_path(
    gql, demo, shared_and_grouped, issue_token
) -> None:
    token = issue_token(demo["orgs"]["city-police"], "indicators:read")

    answer = await gql(PAGE, {"reactions": -1}, token=token)

    errors = answer["errors"]
    assert errors
    assert all(e["path"][-1] == "reactions" for e in errors), errors
    assert {e["extensions"]["code"] for e in errors} == {"BAD_USER_INPUT"}
