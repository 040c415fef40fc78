"""Reading the directory over GraphQL: Relay pagination, lookups, nodes, the caller and tokens."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import pytest

from alliance.auth.keys import KeyRing, generate_key
from alliance.auth.tokens import TokenGrant, issue_access_token
from alliance.demo import MEMBERSHIPS, ORGANISATIONS, PEOPLE
from alliance.orgs import repository as repo
from schema.relay import encode_cursor, to_global_id

ORG_SLUGS = sorted(slug for slug, *_ in ORGANISATIONS)
BRAND_SLUGS = ["acme-motors", "luxe-house", "volt-electronics"]
GROUP_SLUGS = ["automotive-parts", "consumer-electronics", "luxury-goods"]

ORGANISATIONS_PAGE = """
query ($first: Int, $after: String, $kinds: [OrganisationKind!]) {
  organisations(first: $first, after: $after, kinds: $kinds) {
    totalCount
    edges { cursor node { slug kind } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

WORKING_GROUPS_PAGE = """
query ($first: Int, $after: String) {
  workingGroups(first: $first, after: $after) {
    totalCount
    edges { cursor node { slug } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

GROUP_MEMBERS = """
query ($slug: String!, $first: Int, $after: String) {
  workingGroup(slug: $slug) {
    slug
    members(first: $first, after: $after) {
      totalCount
      edges { cursor node { id role organisation { slug } workingGroup { slug } } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}
"""

ORG_GROUPS = """
query ($slug: String!, $first: Int, $after: String) {
  organisation(slug: $slug) {
    slug
    workingGroups(first: $first, after: $after) {
      totalCount
      edges { node { role workingGroup { slug } organisation { slug } } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}
"""

ME = "{ me { clientId scopes organisation { slug kind } person { email displayName } } }"


def admin_token(demo: dict[str, Any], issue_token: Any) -> str:
    return issue_token(demo["orgs"]["alliance-office"], "admin")


def reader_token(demo: dict[str, Any], issue_token: Any) -> str:
    return issue_token(demo["orgs"]["shopmart"], "indicators:read")


def error_codes(result: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in result.get("errors", [])]


def only_error(result: dict[str, Any]) -> dict[str, Any]:
    assert len(result.get("errors", [])) == 1, result
    return result["errors"][0]


async def walk(
    gql: Any, query: str, field: str, token: str, first: int, **variables: Any
) -> list[dict[str, Any]]:
    """Every page of a top-level connection, following endCursor until hasNextPage is false."""
    pages = []
    after = None
    while True:
        result = await gql(query, {"first": first, "after": after, **variables}, token=token)
        assert "errors" not in result, result
        page = result["data"][field]
        pages.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            return pages
        after = page["pageInfo"]["endCursor"]
        assert len(pages) < 20, "pagination does not end"


def slugs(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["slug"] for edge in page["edges"]]


def assert_page_info(pages: list[dict[str, Any]]) -> None:
    for number, page in enumerate(pages):
        info = page["pageInfo"]
        assert info["hasPreviousPage"] is (number > 0)
        assert info["hasNextPage"] is (number < len(pages) - 1)
        cursors = [edge["cursor"] for edge in page["edges"]]
        assert info["startCursor"] == (cursors[0] if cursors else None)
        assert info["endCursor"] == (cursors[-1] if cursors else None)


# --- organisations and workingGroups ---------------------------------------------------------


@pytest.mark.parametrize("first", [1, 2, 3, 7, 100])
async def test_organisations_walk_every_page(gql, demo, issue_token, first: int) -> None:
    pages = await walk(
        gql, ORGANISATIONS_PAGE, "organisations", reader_token(demo, issue_token), first
    )

    assert [slug for page in pages for slug in slugs(page)] == ORG_SLUGS
    assert [len(page["edges"]) for page in pages[:-1]] == [first] * (len(pages) - 1)
    assert len(pages) == -(-len(ORG_SLUGS) // first)
    assert {page["totalCount"] for page in pages} == {len(ORG_SLUGS)}
    assert_page_info(pages)


async def test_organisations_filtered_by_kind(gql, demo, issue_token) -> None:
    token = reader_token(demo, issue_token)

    pages = await walk(gql, ORGANISATIONS_PAGE, "organisations", token, 2, kinds=["BRAND"])

    assert [slug for page in pages for slug in slugs(page)] == BRAND_SLUGS
    assert {edge["node"]["kind"] for page in pages for edge in page["edges"]} == {"BRAND"}
    assert {page["totalCount"] for page in pages} == {3}
    assert_page_info(pages)

    several = await gql(ORGANISATIONS_PAGE, {"kinds": ["PLATFORM", "ENFORCEMENT"]}, token=token)
    assert slugs(several["data"]["organisations"]) == ["city-police", "shopmart"]
    assert several["data"]["organisations"]["totalCount"] == 2

    none = await gql(ORGANISATIONS_PAGE, {"kinds": ["RIGHTS_HOLDER"]}, token=token)
    assert none["data"]["organisations"] == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }


async def test_an_empty_kinds_list_does_not_filter(gql, demo, issue_token) -> None:
    result = await gql(ORGANISATIONS_PAGE, {"kinds": []}, token=reader_token(demo, issue_token))

    assert slugs(result["data"]["organisations"]) == ORG_SLUGS
    assert result["data"]["organisations"]["totalCount"] == len(ORG_SLUGS)


@pytest.mark.parametrize("first", [1, 2, 3])
async def test_working_groups_walk_every_page(gql, demo, issue_token, first: int) -> None:
    pages = await walk(
        gql, WORKING_GROUPS_PAGE, "workingGroups", reader_token(demo, issue_token), first
    )

    assert [slug for page in pages for slug in slugs(page)] == GROUP_SLUGS
    assert {page["totalCount"] for page in pages} == {3}
    assert_page_info(pages)


async def test_first_zero_is_an_empty_page_that_still_counts(gql, demo, issue_token) -> None:
    result = await gql(WORKING_GROUPS_PAGE, {"first": 0}, token=reader_token(demo, issue_token))

    page = result["data"]["workingGroups"]
    assert page["edges"] == []
    assert page["totalCount"] == 3
    assert page["pageInfo"]["hasNextPage"] is True


async def test_without_first_a_default_page_is_returned(gql, demo, issue_token) -> None:
    result = await gql(ORGANISATIONS_PAGE, token=reader_token(demo, issue_token))

    assert slugs(result["data"]["organisations"]) == ORG_SLUGS
    assert result["data"]["organisations"]["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize(
    ("query", "field"),
    [(ORGANISATIONS_PAGE, "organisations"), (WORKING_GROUPS_PAGE, "workingGroups")],
)
@pytest.mark.parametrize("first", [101, 1000, -1])
async def test_first_outside_the_page_size_is_bad_input(
    gql, demo, issue_token, query: str, field: str, first: int
) -> None:
    result = await gql(query, {"first": first}, token=reader_token(demo, issue_token))

    assert result["data"] is None
    error = only_error(result)
    assert error["path"] == [field]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["fields"] == [
        {"path": ["first"], "code": "OUT_OF_RANGE", "message": "must be between 0 and 100"}
    ]


GARBAGE_CURSORS = ["not a cursor!", "%%%", "eA", base64.urlsafe_b64encode(b"c2:acme").decode()]


@pytest.mark.parametrize(
    ("query", "field"),
    [(ORGANISATIONS_PAGE, "organisations"), (WORKING_GROUPS_PAGE, "workingGroups")],
)
@pytest.mark.parametrize("after", GARBAGE_CURSORS)
async def test_a_garbage_cursor_is_bad_input(
    gql, demo, issue_token, query: str, field: str, after: str
) -> None:
    result = await gql(query, {"first": 2, "after": after}, token=reader_token(demo, issue_token))

    assert result["data"] is None
    error = only_error(result)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["fields"][0]["path"] == ["after"]
    assert error["extensions"]["fields"][0]["code"] == "INVALID_CURSOR"


# --- single lookups ------------------------------------------------------------------------


ORGANISATION = """
query ($slug: String, $id: ID) {
  organisation(slug: $slug, id: $id) { id slug name kind country verified }
}
"""

WORKING_GROUP = """
query ($slug: String, $id: ID) {
  workingGroup(slug: $slug, id: $id) { id slug name sector charter }
}
"""


LOOKUPS = [
    pytest.param(ORGANISATION, "organisation", "Organisation", id="organisation"),
    pytest.param(WORKING_GROUP, "workingGroup", "WorkingGroup", id="workingGroup"),
]


async def test_organisation_by_slug_and_by_id(gql, demo, issue_token) -> None:
    token = reader_token(demo, issue_token)
    acme = demo["orgs"]["acme-motors"]
    expected = {
        "id": to_global_id("Organisation", acme.id),
        "slug": "acme-motors",
        "name": "Acme Motors",
        "kind": "BRAND",
        "country": "DE",
        "verified": True,
    }

    by_slug = await gql(ORGANISATION, {"slug": "acme-motors"}, token=token)
    by_id = await gql(ORGANISATION, {"id": expected["id"]}, token=token)

    assert by_slug == {"data": {"organisation": expected}}
    assert by_id == {"data": {"organisation": expected}}


async def test_working_group_by_slug_and_by_id(gql, demo, issue_token) -> None:
    token = reader_token(demo, issue_token)
    group = demo["groups"]["luxury-goods"]
    expected = {
        "id": to_global_id("WorkingGroup", group.id),
        "slug": "luxury-goods",
        "name": "Luxury Goods",
        "sector": "luxury",
        "charter": "Counterfeit handbags, watches, jewellery and leather goods.",
    }

    by_slug = await gql(WORKING_GROUP, {"slug": "luxury-goods"}, token=token)
    by_id = await gql(WORKING_GROUP, {"id": expected["id"]}, token=token)

    assert by_slug == {"data": {"workingGroup": expected}}
    assert by_id == {"data": {"workingGroup": expected}}


@pytest.mark.parametrize(("query", "field", "type_name"), LOOKUPS)
async def test_unknown_slug_or_id_is_null(gql, demo, issue_token, query, field, type_name) -> None:
    token = reader_token(demo, issue_token)

    by_slug = await gql(query, {"slug": "no-such-thing"}, token=token)
    by_id = await gql(query, {"id": to_global_id(type_name, uuid.uuid4())}, token=token)

    assert by_slug == {"data": {field: None}}
    assert by_id == {"data": {field: None}}


@pytest.mark.parametrize(("query", "field", "type_name"), LOOKUPS)
@pytest.mark.parametrize("given", ["neither", "both-null", "both"])
async def test_exactly_one_of_slug_or_id(
    gql, demo, issue_token, query, field, type_name, given: str
) -> None:
    variables = {
        "neither": {},
        "both-null": {"slug": None, "id": None},
        "both": {"slug": "acme-motors", "id": to_global_id(type_name, uuid.uuid4())},
    }[given]

    result = await gql(query, variables, token=reader_token(demo, issue_token))

    assert result["data"] == {field: None}
    error = only_error(result)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert [(f["path"], f["code"]) for f in error["extensions"]["fields"]] == [(["slug"], "ONE_OF")]


@pytest.mark.parametrize(("query", "field", "type_name"), LOOKUPS)
@pytest.mark.parametrize("bad", ["garbage", "foreign"])
async def test_a_bad_id_is_bad_input(gql, demo, issue_token, query, field, type_name, bad) -> None:
    foreign = (
        to_global_id("WorkingGroup", demo["groups"]["luxury-goods"].id)
        if type_name == "Organisation"
        else to_global_id("Organisation", demo["orgs"]["luxe-house"].id)
    )
    given, code = ("garbage", "INVALID_ID") if bad == "garbage" else (foreign, "WRONG_ID_TYPE")

    result = await gql(query, {"id": given}, token=reader_token(demo, issue_token))

    assert result["data"] == {field: None}
    error = only_error(result)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert [(f["path"], f["code"]) for f in error["extensions"]["fields"]] == [(["id"], code)]


# --- node ----------------------------------------------------------------------------------


NODE = """
query ($id: ID!) {
  node(id: $id) {
    __typename
    id
    ... on Organisation { slug }
    ... on WorkingGroup { slug }
    ... on Membership { role organisation { slug } workingGroup { slug } }
    ... on Person { email }
  }
}
"""


async def seat_id(gql: Any, token: str, group: str, org: str) -> str:
    result = await gql(GROUP_MEMBERS, {"slug": group, "first": 100}, token=token)
    [seat] = [
        edge["node"]["id"]
        for edge in result["data"]["workingGroup"]["members"]["edges"]
        if edge["node"]["organisation"]["slug"] == org
    ]
    return seat


async def test_node_resolves_organisations_groups_and_memberships(gql, demo, issue_token) -> None:
    token = reader_token(demo, issue_token)
    org_id = to_global_id("Organisation", demo["orgs"]["city-police"].id)
    group_id = to_global_id("WorkingGroup", demo["groups"]["consumer-electronics"].id)
    membership_id = await seat_id(gql, token, "consumer-electronics", "city-police")

    org = await gql(NODE, {"id": org_id}, token=token)
    group = await gql(NODE, {"id": group_id}, token=token)
    seat = await gql(NODE, {"id": membership_id}, token=token)

    assert org == {
        "data": {"node": {"__typename": "Organisation", "id": org_id, "slug": "city-police"}}
    }
    assert group == {
        "data": {
            "node": {"__typename": "WorkingGroup", "id": group_id, "slug": "consumer-electronics"}
        }
    }
    assert seat == {
        "data": {
            "node": {
                "__typename": "Membership",
                "id": membership_id,
                "role": "OBSERVER",
                "organisation": {"slug": "city-police"},
                "workingGroup": {"slug": "consumer-electronics"},
            }
        }
    }


async def test_node_shows_a_person_only_to_their_own_organisation(
    gql, demo, issue_token, session
) -> None:
    ada = await repo.person_by_email(session, "analyst@acme-motors.example")
    assert ada is not None
    person_id = to_global_id("Person", ada.id)

    colleague = await gql(
        NODE, {"id": person_id}, token=issue_token(demo["orgs"]["acme-motors"], "indicators:read")
    )
    outsider = await gql(NODE, {"id": person_id}, token=reader_token(demo, issue_token))

    assert colleague == {
        "data": {
            "node": {
                "__typename": "Person",
                "id": person_id,
                "email": "analyst@acme-motors.example",
            }
        }
    }
    assert outsider == {"data": {"node": None}}


@pytest.mark.parametrize(
    "type_name", ["Organisation", "WorkingGroup", "Membership", "Person", "Spaceship"]
)
async def test_node_of_a_well_formed_unknown_id_is_null(
    gql, demo, issue_token, type_name: str
) -> None:
    result = await gql(
        NODE, {"id": to_global_id(type_name, uuid.uuid4())}, token=reader_token(demo, issue_token)
    )

    assert result == {"data": {"node": None}}


@pytest.mark.parametrize(
    "garbage",
    ["garbage", "", "!!!", base64.urlsafe_b64encode(b"Organisation:not-a-uuid").decode()],
)
async def test_node_of_a_garbage_id_is_bad_input(gql, demo, issue_token, garbage: str) -> None:
    result = await gql(NODE, {"id": garbage}, token=reader_token(demo, issue_token))

    assert result["data"] == {"node": None}
    error = only_error(result)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["fields"][0]["path"] == ["id"]
    assert error["extensions"]["fields"][0]["code"] == "INVALID_ID"


# --- nested connections --------------------------------------------------------------------


@pytest.mark.parametrize("group", GROUP_SLUGS)
async def test_members_of_a_group_with_their_roles(gql, demo, issue_token, group: str) -> None:
    token = reader_token(demo, issue_token)

    result = await gql(GROUP_MEMBERS, {"slug": group, "first": 10}, token=token)

    members = result["data"]["workingGroup"]["members"]
    roles = {e["node"]["organisation"]["slug"]: e["node"]["role"] for e in members["edges"]}
    assert roles == {org: role.value for org, role in MEMBERSHIPS[group].items()}
    assert {e["node"]["workingGroup"]["slug"] for e in members["edges"]} == {group}
    assert members["totalCount"] == len(MEMBERSHIPS[group])
    assert members["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "endCursor": members["edges"][-1]["cursor"],
    }


async def test_members_walk_every_page(gql, demo, issue_token) -> None:
    token = reader_token(demo, issue_token)
    seen: list[str] = []
    infos = []
    after = None
    while True:
        result = await gql(
            GROUP_MEMBERS, {"slug": "automotive-parts", "first": 2, "after": after}, token=token
        )
        members = result["data"]["workingGroup"]["members"]
        assert members["totalCount"] == 5
        seen.extend(e["node"]["organisation"]["slug"] for e in members["edges"])
        infos.append(members["pageInfo"])
        if not members["pageInfo"]["hasNextPage"]:
            break
        after = members["pageInfo"]["endCursor"]

    assert sorted(seen) == sorted(MEMBERSHIPS["automotive-parts"])
    assert [(i["hasPreviousPage"], i["hasNextPage"]) for i in infos] == [
        (False, True),
        (True, True),
        (True, False),
    ]


async def test_working_groups_of_an_organisation_with_their_roles(gql, demo, issue_token) -> None:
    token = reader_token(demo, issue_token)

    shopmart = await gql(ORG_GROUPS, {"slug": "shopmart", "first": 10}, token=token)
    city_police = await gql(ORG_GROUPS, {"slug": "city-police", "first": 2}, token=token)

    seats = shopmart["data"]["organisation"]["workingGroups"]
    assert seats["totalCount"] == 3
    assert sorted(
        (e["node"]["workingGroup"]["slug"], e["node"]["role"]) for e in seats["edges"]
    ) == [
        ("automotive-parts", "MEMBER"),
        ("consumer-electronics", "MEMBER"),
        ("luxury-goods", "MEMBER"),
    ]
    assert {e["node"]["organisation"]["slug"] for e in seats["edges"]} == {"shopmart"}
    police = city_police["data"]["organisation"]["workingGroups"]
    assert police["totalCount"] == 3
    assert len(police["edges"]) == 2
    assert police["pageInfo"]["hasNextPage"] is True
    rest = await gql(
        ORG_GROUPS,
        {"slug": "city-police", "first": 2, "after": police["pageInfo"]["endCursor"]},
        token=token,
    )
    last = rest["data"]["organisation"]["workingGroups"]
    assert last["pageInfo"]["hasNextPage"] is False
    assert last["pageInfo"]["hasPreviousPage"] is True
    roles = {
        e["node"]["workingGroup"]["slug"]: e["node"]["role"]
        for e in police["edges"] + last["edges"]
    }
    assert roles == {
        "automotive-parts": "MEMBER",
        "luxury-goods": "MEMBER",
        "consumer-electronics": "OBSERVER",
    }


async def test_nested_first_over_the_maximum_is_bad_input(gql, demo, issue_token) -> None:
    result = await gql(
        GROUP_MEMBERS, {"slug": "luxury-goods", "first": 101}, token=reader_token(demo, issue_token)
    )

    assert result["data"] == {"workingGroup": None}
    error = only_error(result)
    assert error["path"] == ["workingGroup", "members"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["fields"][0]["path"] == ["first"]


@pytest.mark.parametrize("after", [*GARBAGE_CURSORS, encode_cursor("acme-motors")])
async def test_nested_garbage_cursor_is_bad_input(gql, demo, issue_token, after: str) -> None:
    """A cursor of another list (here a slug cursor of `organisations`) is as bad as noise."""
    result = await gql(
        GROUP_MEMBERS,
        {"slug": "luxury-goods", "first": 2, "after": after},
        token=reader_token(demo, issue_token),
    )

    assert result["data"] == {"workingGroup": None}
    error = only_error(result)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["fields"][0]["code"] == "INVALID_CURSOR"


# --- me ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("org_slug", "email", "display_name"), PEOPLE)
async def test_me_with_a_person_token(
    gql, demo, issue_token, session, org_slug, email, display_name
) -> None:
    person = await repo.person_by_email(session, email)
    token = issue_token(demo["orgs"][org_slug], "org:admin indicators:read", person=person)

    result = await gql(ME, token=token)

    assert result == {
        "data": {
            "me": {
                "clientId": "tests",
                "scopes": ["indicators:read", "org:admin"],
                "organisation": {"slug": org_slug, "kind": demo["orgs"][org_slug].kind.value},
                "person": {"email": email, "displayName": display_name},
            }
        }
    }


async def test_me_with_a_client_token_has_no_person(gql, demo, issue_token) -> None:
    result = await gql(ME, token=issue_token(demo["orgs"]["alliance-office"], "admin"))

    assert result == {
        "data": {
            "me": {
                "clientId": "tests",
                "scopes": ["admin"],
                "organisation": {"slug": "alliance-office", "kind": "ASSOCIATION"},
                "person": None,
            }
        }
    }


async def test_me_without_a_token_is_null(gql, demo) -> None:
    assert await gql(ME) == {"data": {"me": None}}


# --- authentication ------------------------------------------------------------------------


ANONYMOUS_QUERIES = [
    pytest.param("{ organisations { totalCount } }", None, id="organisations"),
    pytest.param("{ workingGroups { totalCount } }", None, id="workingGroups"),
    pytest.param(
        '{ organisation(slug: "acme-motors") { slug } }', {"organisation": None}, id="organisation"
    ),
    pytest.param(
        '{ workingGroup(slug: "luxury-goods") { slug } }', {"workingGroup": None}, id="workingGroup"
    ),
    pytest.param('{ node(id: "T3JnYW5pc2F0aW9uOjA") { id } }', {"node": None}, id="node"),
    pytest.param("{ changes { totalCount } }", None, id="changes"),
    pytest.param("{ auditLog { totalCount } }", None, id="auditLog"),
    pytest.param("{ oauthClients { totalCount } }", None, id="oauthClients"),
    pytest.param("{ trustedIssuers { totalCount } }", None, id="trustedIssuers"),
    pytest.param("{ people { totalCount } }", None, id="people"),
    pytest.param("{ rules { totalCount } }", None, id="rules"),
    pytest.param('{ rule(id: "UnVsZTow") { id } }', {"rule": None}, id="rule"),
    pytest.param(
        '{ ruleBacktest(ruleId: "UnVsZTow", catalogue: "") { listings } }',
        None,
        id="ruleBacktest",
    ),
    pytest.param('{ checkListing(listing: {title: "x"}) { verdict } }', None, id="checkListing"),
    pytest.param(
        '{ checkListings(listings: [{title: "x"}]) { verdict } }', None, id="checkListings"
    ),
    pytest.param('{ search(query: "x") { totalCount } }', None, id="search"),
    pytest.param('{ suggest(prefix: "x") { text } }', None, id="suggest"),
    pytest.param("{ indicators { totalCount } }", None, id="indicators"),
    pytest.param(
        '{ indicator(id: "SW5kaWNhdG9yOjA") { id } }', {"indicator": None}, id="indicator"
    ),
    pytest.param(
        '{ lookupIndicator(type: DOMAIN, value: "x.com") { id } }',
        {"lookupIndicator": None},
        id="lookupIndicator",
    ),
    pytest.param(
        '{ sellerNetwork(indicatorId: "SW5kaWNhdG9yOjA") { truncated } }',
        {"sellerNetwork": None},
        id="sellerNetwork",
    ),
    pytest.param("{ allowlist { totalCount } }", None, id="allowlist"),
    pytest.param(
        '{ importJob(id: "SW1wb3J0Sm9iOjA") { id } }', {"importJob": None}, id="importJob"
    ),
    pytest.param('{ blob(id: "QmxvYjow") { id } }', {"blob": None}, id="blob"),
    pytest.param("{ guides { totalCount } }", None, id="guides"),
    pytest.param('{ guide(id: "R3VpZGU6MA==") { id } }', {"guide": None}, id="guide"),
    pytest.param(
        '{ guideDiff(id: "R3VpZGU6MA==", from: 1, to: 2) { section } }', None, id="guideDiff"
    ),
    pytest.param(
        '{ validateSerial(guideId: "R3VpZGU6MA==", value: "x") { valid } }',
        None,
        id="validateSerial",
    ),
    pytest.param("{ guideNotifications { totalCount } }", None, id="guideNotifications"),
    pytest.param("{ webhookSubscriptions { totalCount } }", None, id="webhookSubscriptions"),
    pytest.param(
        '{ webhookDeliveries(subscriptionId: "V2ViaG9va1N1YnNjcmlwdGlvbjow") { totalCount } }',
        None,
        id="webhookDeliveries",
    ),
    pytest.param("{ testBuys { totalCount } }", None, id="testBuys"),
    pytest.param('{ testBuy(id: "VGVzdEJ1eTow") { id } }', {"testBuy": None}, id="testBuy"),
    pytest.param("{ cases { totalCount } }", None, id="cases"),
    pytest.param('{ case(id: "Q2FzZTow") { id } }', {"case": None}, id="case"),
    pytest.param('{ statistics(period: "2026") { period } }', None, id="statistics"),
    pytest.param("{ peers { totalCount } }", None, id="peers"),
]


@pytest.mark.parametrize(("query", "data"), ANONYMOUS_QUERIES)
async def test_every_query_needs_a_token(gql, demo, query: str, data: Any) -> None:
    result = await gql(query)

    assert result["data"] == data
    error = only_error(result)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "access token" in error["message"]


async def test_a_token_for_every_query_field_is_checked(gql, demo) -> None:
    """The anonymous list above covers every Query field except `me`, which is open by design."""
    result = await gql('{ __type(name: "Query") { fields { name } } }')

    names = {f["name"] for f in result["data"]["__type"]["fields"]}
    assert names == {p.id for p in ANONYMOUS_QUERIES} | {"me"}


def tamper_payload(token: str, **claims: Any) -> str:
    header, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    decoded.update(claims)
    forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


def tamper_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    return f"{header}.{payload}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"


def grant_for(org: Any, scopes: str = "admin") -> TokenGrant:
    return TokenGrant(
        subject=f"test:{org.slug}",
        client_id="tests",
        organisation_id=org.id,
        organisation_slug=org.slug,
        scopes=tuple(scopes.split()),
    )


async def post_with(client: Any, authorization: str) -> Any:
    return await client.post(
        "/graphql",
        json={"query": "{ me { organisation { slug } } }"},
        headers={"Authorization": authorization},
    )


def assert_refused(response: Any, reason: str) -> None:
    assert response.status_code == 401, response.text
    assert reason in response.json()["detail"]
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert reason in response.headers["www-authenticate"]


async def test_a_tampered_payload_is_refused(client, demo, issue_token) -> None:
    token = issue_token(demo["orgs"]["shopmart"], "indicators:read")

    response = await post_with(client, f"Bearer {tamper_payload(token, scope='admin')}")

    assert_refused(response, "signature or format is invalid")


async def test_a_tampered_signature_is_refused(client, demo, issue_token) -> None:
    token = issue_token(demo["orgs"]["shopmart"], "indicators:read")

    response = await post_with(client, f"Bearer {tamper_signature(token)}")

    assert_refused(response, "signature or format is invalid")


async def test_a_token_signed_by_another_key_is_refused(client, demo, settings) -> None:
    from joserfc.jwk import KeySet

    key = generate_key()
    stranger = KeyRing(current=key, verifying=KeySet([key]))
    token, _ = issue_access_token(
        stranger,
        grant_for(demo["orgs"]["alliance-office"]),
        issuer=settings.base_url,
        audience=settings.token_audience,
        ttl_seconds=600,
    )

    response = await post_with(client, f"Bearer {token}")

    assert_refused(response, "signature or format is invalid")


async def test_an_expired_token_is_refused(app, client, demo, settings) -> None:
    # Expired well beyond the 30 s leeway.
    token, _ = issue_access_token(
        app.state.keys,
        grant_for(demo["orgs"]["alliance-office"]),
        issuer=settings.base_url,
        audience=settings.token_audience,
        ttl_seconds=60,
        now=int(time.time()) - 3600,
    )

    response = await post_with(client, f"Bearer {token}")

    assert_refused(response, "token rejected")
    assert "exp" in response.json()["detail"].lower()


async def test_a_token_for_another_audience_is_refused(app, client, demo, settings) -> None:
    token, _ = issue_access_token(
        app.state.keys,
        grant_for(demo["orgs"]["alliance-office"]),
        issuer=settings.base_url,
        audience="https://elsewhere.example",
        ttl_seconds=600,
    )

    response = await post_with(client, f"Bearer {token}")

    assert_refused(response, "token rejected")


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer ", "Bearer not.a.jwt"])
async def test_a_malformed_authorization_header_is_refused(
    client, demo, authorization: str
) -> None:
    response = await post_with(client, authorization)

    assert response.status_code == 401
    assert response.json()["detail"]
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


async def test_sibling_fields_share_the_request_session(gql, demo, issue_token) -> None:
    """Top-level fields resolve concurrently on one session: none may race to open it."""
    query = """
    {
      a: organisation(slug: "acme-motors") { slug }
      b: workingGroup(slug: "luxury-goods") { slug }
      c: organisations(first: 1) { totalCount }
      d: workingGroups(first: 1) { totalCount }
      e: me { organisation { slug } }
    }
    """

    result = await gql(query, token=reader_token(demo, issue_token))

    assert result == {
        "data": {
            "a": {"slug": "acme-motors"},
            "b": {"slug": "luxury-goods"},
            "c": {"totalCount": len(ORG_SLUGS)},
            "d": {"totalCount": 3},
            "e": {"organisation": {"slug": "shopmart"}},
        }
    }
