"""N+1 locked out for indicators: a page of 100 indicators with their assertions, reactions,
organisations and aggregates costs the same number of SQL statements as a page of 10."""

from __future__ import annotations

from typing import Any

import pytest

from alliance.db import unit_of_work
from alliance.indicators import service
from alliance.indicators.models import ReactionKind, TestBuyVerdict
from alliance.indicators.service import ReactionData
from tests.alliance.indicators.builders import submission
from tests.schema.test_query_counts import recorded_statements, rows_seen

PAGE = """
query ($first: Int!) {
  indicators(first: $first) {
    totalCount
    edges { node {
      id type value status score confidence organisationsAsserting firstSeenAt lastSeenAt
      assertions(first: 5) {
        totalCount
        edges { node {
          id confidence status score organisation { slug } workingGroup { slug }
          indicator { value }
          reactions(first: 5) { totalCount edges { node { kind verdict organisation { slug } } } }
          proposals(first: 5) { totalCount edges { node { state proposer { slug } } } }
        } }
      }
    } }
  }
}
"""

INDICATORS = 100
# Savepoint, the viewer's seats, the page, its count, the visible assertions, the reaction
# tallies, two per reaction window, two per proposal window, organisations, working groups,
# and the indicators the assertions point back to.
MAX_STATEMENTS = 16


@pytest.fixture
async def crowded(sessions: Any, demo: dict[str, Any]) -> None:
    orgs, groups = demo["orgs"], demo["groups"]
    async with unit_of_work(sessions) as session:
        acme = await service.viewer_of_organisation(session, orgs["acme-motors"].id)
        shopmart = await service.viewer_of_organisation(session, orgs["shopmart"].id)
        police = await service.viewer_of_organisation(session, orgs["city-police"].id)
        group = groups["automotive-parts"].id
        items = [
            submission(
                type="domain",
                value=f"fake-parts-{n:03}.shop",
                distribution="WORKING_GROUP",
                working_group_id=group,
                confidence=40 + n % 50,
            )
            for n in range(INDICATORS)
        ]
        mine = await service.submit(session, acme, items)
        theirs = await service.submit(session, shopmart, items[::2])
        for result in [*mine[::3], *theirs[::4]]:
            await service.react(
                session,
                police,
                result.assertion.id,
                ReactionData(kind=ReactionKind.SEEN_TOO, platform="shopee"),
            )
        for result in mine[::5]:
            await service.react(
                session,
                shopmart,
                result.assertion.id,
                ReactionData(
                    kind=ReactionKind.CONFIRMED_BY_TEST_BUY,
                    platform="shopee",
                    order_number=f"SO-{result.index}",
                    occurred_at=result.assertion.created_at,
                    verdict=TestBuyVerdict.COUNTERFEIT,
                ),
            )
        for result in mine[::7]:
            await service.propose(
                session,
                police,
                result.assertion.id,
                service.Correction(confidence=99),
                reason="seen in a raid",
            )


async def test_a_page_of_100_indicators_costs_what_a_page_of_10_does(
    gql, engine, demo, crowded, issue_token
) -> None:
    token = issue_token(demo["orgs"]["city-police"], "indicators:read")

    with recorded_statements(engine) as few:
        small = await gql(PAGE, {"first": 10}, token=token)
    with recorded_statements(engine) as many:
        large = await gql(PAGE, {"first": 100}, token=token)

    assert "errors" not in small, small
    assert "errors" not in large, large
    assert len(small["data"]["indicators"]["edges"]) == 10
    assert len(large["data"]["indicators"]["edges"]) == INDICATORS
    assert rows_seen(large) > 8 * rows_seen(small)
    reactions = sum(
        a["node"]["reactions"]["totalCount"]
        for e in large["data"]["indicators"]["edges"]
        for a in e["node"]["assertions"]["edges"]
    )
    assert reactions == len(range(0, INDICATORS, 3)) + len(range(0, INDICATORS // 2, 4)) + 20
    assert len(many) == len(few), "\n".join(many)
    assert len(many) <= MAX_STATEMENTS, "\n".join(many)
