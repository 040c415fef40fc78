"""An organisation's people over GraphQL: the list an admin sees (their own organisation's
only), granting and withdrawing the admin role, disabling and enabling, and the typed
errors. Every refused mutation is checked for writing nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from alliance.auth.accounts import create_local_user
from alliance.db import unit_of_work
from alliance.orgs import repository as repo
from alliance.orgs.models import Person
from schema.relay import to_global_id

PASSWORD = "correct horse battery staple"
ANALYST = "analyst@acme-motors.example"
COLLEAGUE = "colleague@acme-motors.example"
TRUST = "trust@shopmart.example"
ERRORS = """
  __typename
  ... on Error { message code }
  ... on ValidationError { fields { path code message } }
"""
PEOPLE = """
query ($org: ID, $first: Int, $after: String) {
  people(organisationId: $org, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id email displayName orgAdmin enabled hasLocalAccount organisation { slug } } }
  }
}
"""


def mutation(name: str) -> str:
    return f"""
mutation ($input: PersonInput!) {{
  {name}(input: $input) {{
    {ERRORS}
    ... on PersonPayload {{ person {{ email orgAdmin enabled }} }}
  }}
}}
"""


@pytest.fixture
async def world(sessions, demo: dict[str, Any], issue_token) -> dict[str, Any]:
    """acme-motors: its analyst its one admin, plus a colleague; tokens for each role."""
    orgs = demo["orgs"]
    async with unit_of_work(sessions) as session:
        for email, admin in ((ANALYST, True), (COLLEAGUE, False)):
            await create_local_user(
                session,
                None,
                organisation=orgs["acme-motors"].id,
                email=email,
                password=PASSWORD,
                org_admin=admin,
            )
    async with sessions() as session:
        people = {e: await repo.person_by_email(session, e) for e in (ANALYST, COLLEAGUE, TRUST)}
    acme = orgs["acme-motors"]
    return {
        "orgs": orgs,
        "people": people,
        "ids": {e: to_global_id("Person", p.id) for e, p in people.items()},
        "acme-admin": issue_token(acme, "org:admin", person=people[ANALYST]),
        "acme-member": issue_token(acme, "indicators:read", person=people[COLLEAGUE]),
        "operator": issue_token(orgs["alliance-office"], "admin"),
    }


async def flags(sessions, email: str) -> tuple[bool, bool]:
    async with sessions() as session:
        found = await session.scalar(select(Person).where(Person.email == email))
        assert found is not None
        return found.org_admin, found.disabled


async def test_an_org_admin_lists_only_their_own_people(gql, world) -> None:
    result = await gql(PEOPLE, token=world["acme-admin"])

    people = result["data"]["people"]
    assert people["totalCount"] == 2
    nodes = [e["node"] for e in people["edges"]]
    assert [n["email"] for n in nodes] == [ANALYST, COLLEAGUE]
    assert {n["organisation"]["slug"] for n in nodes} == {"acme-motors"}
    assert [(n["orgAdmin"], n["enabled"], n["hasLocalAccount"]) for n in nodes] == [
        (True, True, True),
        (False, True, True),
    ]
    assert TRUST not in str(result)


async def test_another_organisations_people_do_not_leak(gql, world) -> None:
    shopmart = to_global_id("Organisation", world["orgs"]["shopmart"].id)

    refused = await gql(PEOPLE, {"org": shopmart}, token=world["acme-admin"])

    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert TRUST not in str(refused)
    member = await gql(PEOPLE, token=world["acme-member"])
    assert member["data"] is None
    assert member["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    operator = await gql(PEOPLE, {"org": shopmart}, token=world["operator"])
    assert [e["node"]["email"] for e in operator["data"]["people"]["edges"]] == [TRUST]


async def test_people_are_paged(gql, world) -> None:
    first = await gql(PEOPLE, {"first": 1}, token=world["acme-admin"])
    page = first["data"]["people"]
    rest = await gql(
        PEOPLE, {"first": 1, "after": page["pageInfo"]["endCursor"]}, token=world["acme-admin"]
    )

    assert page["pageInfo"]["hasNextPage"]
    assert [e["node"]["email"] for e in rest["data"]["people"]["edges"]] == [COLLEAGUE]
    assert not rest["data"]["people"]["pageInfo"]["hasNextPage"]


async def test_grant_withdraw_disable_enable(gql, sessions, world) -> None:
    admin, colleague = world["acme-admin"], {"personId": world["ids"][COLLEAGUE]}

    granted = await gql(mutation("grantOrganisationAdmin"), {"input": colleague}, token=admin)
    assert granted["data"]["grantOrganisationAdmin"] == {
        "__typename": "PersonPayload",
        "person": {"email": COLLEAGUE, "orgAdmin": True, "enabled": True},
    }
    withdrawn = await gql(mutation("withdrawOrganisationAdmin"), {"input": colleague}, token=admin)
    assert withdrawn["data"]["withdrawOrganisationAdmin"]["person"]["orgAdmin"] is False
    disabled = await gql(mutation("disablePerson"), {"input": colleague}, token=admin)
    assert disabled["data"]["disablePerson"]["person"]["enabled"] is False
    assert await flags(sessions, COLLEAGUE) == (False, True)
    enabled = await gql(mutation("enablePerson"), {"input": colleague}, token=admin)
    assert enabled["data"]["enablePerson"]["person"]["enabled"] is True
    assert await flags(sessions, COLLEAGUE) == (False, False)


async def test_the_last_admin_stays(gql, sessions, world) -> None:
    analyst = {"personId": world["ids"][ANALYST]}

    for name in ("withdrawOrganisationAdmin", "disablePerson"):
        result = await gql(mutation(name), {"input": analyst}, token=world["operator"])
        assert result["data"][name]["__typename"] == "Conflict"
        assert "at least one enabled admin" in result["data"][name]["message"]
    assert await flags(sessions, ANALYST) == (True, False)


async def test_refusals_write_nothing(gql, sessions, world) -> None:
    trust = {"personId": world["ids"][TRUST]}
    colleague = {"personId": world["ids"][COLLEAGUE]}

    foreign = await gql(mutation("disablePerson"), {"input": trust}, token=world["acme-admin"])
    assert foreign["data"]["disablePerson"]["__typename"] == "NotFound"
    member = await gql(
        mutation("grantOrganisationAdmin"), {"input": colleague}, token=world["acme-member"]
    )
    assert member["data"]["grantOrganisationAdmin"]["__typename"] == "Forbidden"
    wrong = await gql(
        mutation("disablePerson"),
        {"input": {"personId": to_global_id("Organisation", world["orgs"]["shopmart"].id)}},
        token=world["acme-admin"],
    )
    assert wrong["data"]["disablePerson"]["__typename"] == "ValidationError"
    assert wrong["data"]["disablePerson"]["fields"][0]["path"] == ["personId"]
    assert await flags(sessions, TRUST) == (False, False)
    assert await flags(sessions, COLLEAGUE) == (False, False)


async def test_the_list_costs_the_same_statements_for_one_or_many(
    gql, sessions, engine, world
) -> None:
    from tests.schema.test_query_counts import recorded_statements

    async with unit_of_work(sessions) as session:
        for n in range(6):
            await create_local_user(
                session,
                None,
                organisation=world["orgs"]["acme-motors"].id,
                email=f"p{n}@acme-motors.example",
                password=PASSWORD,
            )
    counted = []
    for first in (1, 8):
        with recorded_statements(engine) as statements:
            result = await gql(PEOPLE, {"first": first}, token=world["acme-admin"])
        assert len(result["data"]["people"]["edges"]) == first
        counted.append(list(statements))
    few, many = counted
    assert len(many) == len(few), "\n".join(many)
    # The page and its count; the organisations once.
    assert sum("FROM people" in s for s in many) == 2, "\n".join(many)
    assert sum("FROM organisations" in s for s in many) == 1, "\n".join(many)
