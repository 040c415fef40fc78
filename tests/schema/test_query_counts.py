"""N+1 locked out: a list query costs the same number of SQL statements for 2 rows as for 10."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from alliance.db import unit_of_work
from alliance.orgs import service
from alliance.orgs.models import MembershipRole, OrganisationKind

EXTRA_ORGS = 12
EXTRA_GROUPS = 10

GROUPS_WITH_MEMBERS = """
query ($first: Int!) {
  workingGroups(first: $first) {
    edges { node { slug members(first: 10) {
      totalCount
      edges { node { role organisation { slug name } workingGroup { slug } } }
    } } }
  }
}
"""

ORGANISATIONS_WITH_GROUPS = """
query ($first: Int!) {
  organisations(first: $first) {
    totalCount
    edges { node { slug workingGroups(first: 5) {
      totalCount
      edges { node { role workingGroup { slug } } }
    } } }
  }
}
"""

GROUPS_MEMBERS_AND_THEIR_GROUPS = """
query ($first: Int!) {
  workingGroups(first: $first) {
    totalCount
    edges { node { slug members(first: 10) {
      edges { node { organisation { slug workingGroups(first: 5) {
        totalCount
        edges { node { role createdAt } }
      } } } }
    } } }
  }
}
"""

# A transaction savepoint, the page, its count, two per membership window, and one per
# by-id loader: a handful, whatever the number of rows.
MAX_STATEMENTS = 10


@pytest.fixture
async def crowded_alliance(demo: dict[str, Any], sessions: Any) -> None:
    """The demo alliance plus organisations and groups enough that pages of 2 and 10 differ.

    Group ``wg-NN`` has the NN members ``org-01`` (its chair) to ``org-NN``.
    """
    async with unit_of_work(sessions) as session:
        orgs = []
        for n in range(1, EXTRA_ORGS + 1):
            orgs.append(
                await service.create_organisation(
                    session,
                    None,
                    service.OrganisationData(
                        slug=f"org-{n:02}", name=f"Organisation {n}", kind=OrganisationKind.BRAND
                    ),
                )
            )
        for n in range(1, EXTRA_GROUPS + 1):
            group = await service.create_working_group(
                session,
                None,
                service.WorkingGroupData(slug=f"wg-{n:02}", name=f"Group {n}", sector="test"),
            )
            for position, org in enumerate(orgs[:n]):
                await service.add_working_group_member(
                    session,
                    None,
                    working_group_id=group.id,
                    organisation_id=org.id,
                    role=MembershipRole.CHAIR if position == 0 else MembershipRole.MEMBER,
                )


@contextmanager
def recorded_statements(engine: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def run_counted(
    gql: Any, engine: Any, query: str, first: int, token: str
) -> tuple[dict[str, Any], list[str]]:
    with recorded_statements(engine) as statements:
        result = await gql(query, {"first": first}, token=token)
    assert "errors" not in result, result
    return result["data"], list(statements)


def rows_seen(data: Any) -> int:
    """Every object in a response: how much work the statements did."""
    if isinstance(data, dict):
        return 1 + sum(rows_seen(v) for v in data.values())
    if isinstance(data, list):
        return sum(rows_seen(v) for v in data)
    return 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param(GROUPS_WITH_MEMBERS, "workingGroups", id="groups-members"),
        pytest.param(ORGANISATIONS_WITH_GROUPS, "organisations", id="organisations-groups"),
        pytest.param(GROUPS_MEMBERS_AND_THEIR_GROUPS, "workingGroups", id="groups-members-groups"),
    ],
)
async def test_statement_count_does_not_grow_with_the_page(
    gql, engine, demo, crowded_alliance, issue_token, query: str, field: str
) -> None:
    token = issue_token(demo["orgs"]["alliance-office"], "indicators:read")

    small, few = await run_counted(gql, engine, query, 2, token)
    large, many = await run_counted(gql, engine, query, 10, token)

    assert len(small[field]["edges"]) == 2
    assert len(large[field]["edges"]) == 10
    assert rows_seen(large) > 3 * rows_seen(small)
    assert len(many) == len(few), "\n".join(many)
    assert len(many) <= MAX_STATEMENTS, "\n".join(many)


async def test_the_crowded_alliance_is_what_the_counts_rely_on(
    gql, demo, crowded_alliance, issue_token
) -> None:
    """Guards the fixture: the large pages really do reach groups and organisations with seats."""
    token = issue_token(demo["orgs"]["alliance-office"], "indicators:read")

    groups = await gql(GROUPS_WITH_MEMBERS, {"first": 10}, token=token)
    orgs = await gql(ORGANISATIONS_WITH_GROUPS, {"first": 10}, token=token)

    member_totals = {
        e["node"]["slug"]: e["node"]["members"]["totalCount"]
        for e in groups["data"]["workingGroups"]["edges"]
    }
    assert member_totals == {
        "automotive-parts": 5,
        "consumer-electronics": 5,
        "luxury-goods": 5,
        **{f"wg-{n:02}": n for n in range(1, 8)},
    }
    assert orgs["data"]["organisations"]["totalCount"] == 7 + EXTRA_ORGS
    seats = {
        e["node"]["slug"]: e["node"]["workingGroups"]["totalCount"]
        for e in orgs["data"]["organisations"]["edges"]
    }
    assert seats == {
        "acme-motors": 1,
        "alliance-office": 3,
        "city-police": 3,
        "guild-of-trainers": 3,
        "luxe-house": 1,
        **{f"org-{n:02}": EXTRA_GROUPS + 1 - n for n in range(1, 6)},
    }
