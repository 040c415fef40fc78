"""N+1 locked out on the case lists: as many statements for 2 cases as for 10."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alliance.cases import service
from alliance.cases.evidence_store import store_bytes
from alliance.db import unit_of_work
from alliance.indicators import service as indicators
from tests.schema.test_query_counts import rows_seen, run_counted

CASES = """
query ($first: Int!) {
  cases(first: $first) {
    totalCount
    edges { node {
      reference status manifestHead organisation { slug } enforcementOrganisation { slug }
      workingGroup { slug }
      participants { role organisation { slug } }
      indicators { type value }
      testBuys { orderNumber organisation { slug } attachments { sha256 receivedByOrganisation { slug } } confirms { assertionId } }
      evidence { sha256 receivedByOrganisation { slug } }
      timeline { seq kind organisation { slug } }
    } }
  }
}
"""

TEST_BUYS = """
query ($first: Int!) {
  testBuys(first: $first) {
    totalCount
    edges { node {
      orderNumber organisation { slug } workingGroup { slug }
      attachments { sha256 receivedByOrganisation { slug } } confirms { assertionId }
    } }
  }
}
"""

# The page, its count, and one statement per loader: constant in the page size.
MAX_STATEMENTS = 22


@pytest.fixture
async def many_cases(demo: dict[str, Any], sessions: Any, settings: Any) -> None:
    orgs, group = demo["orgs"], demo["groups"]["automotive-parts"]
    async with unit_of_work(sessions) as session:
        acme = await indicators.viewer_of_organisation(session, orgs["acme-motors"].id)
        [submitted] = await indicators.submit(
            session,
            acme,
            [
                indicators.Submission(
                    type="domain", value="fake-parts.shop", working_group_id=group.id
                )
            ],
        )
        for n in range(12):
            stored = await store_bytes(settings.data_dir, f"receipt {n}".encode())
            buy = await service.record_test_buy(
                session,
                acme,
                service.TestBuyData(
                    purchased_at=datetime.now(UTC) - timedelta(days=1),
                    platform="shopee",
                    seller="s",
                    order_number=f"o-{n}",
                    verdict="COUNTERFEIT",
                    working_group_id=group.id,
                    confirms_assertion_ids=[submitted.assertion.id],
                    attachments=[service.Attachment(stored, f"r{n}.txt")],
                ),
                actor="test",
            )
            case = await service.open_case(
                session,
                acme,
                service.CaseData(
                    reference=f"Q-{n}",
                    title="t",
                    jurisdiction="CN",
                    working_group_id=group.id,
                    indicator_ids=[submitted.indicator.id],
                    test_buy_ids=[buy.id],
                ),
                actor="test",
            )
            await service.add_to_case(
                session, acme, case.id, organisation_ids=[orgs["shopmart"].id], actor="test"
            )
            await service.refer_case(session, acme, case.id, orgs["city-police"].id, actor="test")


@pytest.mark.parametrize(("query", "field"), [(CASES, "cases"), (TEST_BUYS, "testBuys")])
async def test_statement_count_does_not_grow_with_the_page(
    gql, engine, demo, many_cases, issue_token, query: str, field: str
) -> None:
    token = issue_token(demo["orgs"]["acme-motors"], "cases:read")
    small, few = await run_counted(gql, engine, query, 2, token)
    large, many = await run_counted(gql, engine, query, 10, token)
    assert len(small[field]["edges"]) == 2
    assert len(large[field]["edges"]) == 10
    assert rows_seen(large) > 3 * rows_seen(small)
    assert len(many) == len(few), "\n".join(many)
    assert len(many) <= MAX_STATEMENTS, "\n".join(many)
