"""Writing the directory over GraphQL: payloads, typed errors, permissions, and the change log.

Every refused mutation is checked for writing nothing: the rows of the directory tables
and of the change log are counted before and after.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, text

from alliance.changelog.models import ChangeLogEntry, Operation
from alliance.orgs import repository as repo
from schema.relay import from_global_id, to_global_id

TABLES = ("organisations", "working_groups", "memberships", "change_log")

ERROR_FIELDS = """
  __typename
  ... on Error { message code }
  ... on ValidationError { fields { path code message } }
"""

CREATE_ORGANISATION = f"""
mutation ($input: CreateOrganisationInput!) {{
  createOrganisation(input: $input) {{
    {ERROR_FIELDS}
    ... on CreateOrganisationPayload {{
      organisation {{ id slug name kind country verified workingGroups {{ totalCount }} }}
    }}
  }}
}}
"""

CREATE_WORKING_GROUP = f"""
mutation ($input: CreateWorkingGroupInput!) {{
  createWorkingGroup(input: $input) {{
    {ERROR_FIELDS}
    ... on CreateWorkingGroupPayload {{
      workingGroup {{ id slug name sector charter members {{ totalCount }} }}
    }}
  }}
}}
"""

MEMBERSHIP_FIELDS = "membership { id role organisation { slug } workingGroup { slug } }"

ADD_MEMBER = f"""
mutation ($input: WorkingGroupRoleInput!) {{
  addWorkingGroupMember(input: $input) {{
    {ERROR_FIELDS}
    ... on MembershipPayload {{ {MEMBERSHIP_FIELDS} }}
  }}
}}
"""

CHANGE_ROLE = f"""
mutation ($input: WorkingGroupRoleInput!) {{
  changeWorkingGroupRole(input: $input) {{
    {ERROR_FIELDS}
    ... on MembershipPayload {{ {MEMBERSHIP_FIELDS} }}
  }}
}}
"""

REMOVE_MEMBER = f"""
mutation ($input: WorkingGroupSeatInput!) {{
  removeWorkingGroupMember(input: $input) {{
    {ERROR_FIELDS}
    ... on RemoveWorkingGroupMemberPayload {{ removedMembershipId workingGroupId organisationId }}
  }}
}}
"""

MUTATIONS = {
    "createOrganisation": CREATE_ORGANISATION,
    "createWorkingGroup": CREATE_WORKING_GROUP,
    "addWorkingGroupMember": ADD_MEMBER,
    "changeWorkingGroupRole": CHANGE_ROLE,
    "removeWorkingGroupMember": REMOVE_MEMBER,
}

MEMBERS = """
query ($slug: String!) {
  workingGroup(slug: $slug) { members(first: 100) { edges { node { role organisation { slug } } } } }
}
"""


# --- helpers -------------------------------------------------------------------------------


def admin(demo: dict[str, Any], issue_token: Any) -> str:
    return issue_token(demo["orgs"]["alliance-office"], "admin")


def org_id(demo: dict[str, Any], slug: str) -> str:
    return to_global_id("Organisation", demo["orgs"][slug].id)


def group_id(demo: dict[str, Any], slug: str) -> str:
    return to_global_id("WorkingGroup", demo["groups"][slug].id)


def seat(demo: dict[str, Any], group: str, org: str, role: str | None = None) -> dict[str, Any]:
    value = {"workingGroupId": group_id(demo, group), "organisationId": org_id(demo, org)}
    return value if role is None else {**value, "role": role}


async def row_counts(session: Any) -> dict[str, int]:
    return {
        table: int(await session.scalar(text(f"SELECT count(*) FROM {table}"))) for table in TABLES
    }


async def log_head(session: Any) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(ChangeLogEntry.seq), 0))))


async def log_after(session: Any, seq: int) -> list[ChangeLogEntry]:
    return list(
        await session.scalars(
            select(ChangeLogEntry).where(ChangeLogEntry.seq > seq).order_by(ChangeLogEntry.seq)
        )
    )


async def run(gql: Any, mutation: str, input: dict[str, Any], token: str | None) -> dict[str, Any]:
    result = await gql(MUTATIONS[mutation], {"input": input}, token=token)
    assert "errors" not in result, result
    return result["data"][mutation]


async def refused(
    gql: Any, session: Any, mutation: str, input: dict[str, Any], token: str | None
) -> dict[str, Any]:
    """Run a mutation that must fail with a typed error and write nothing; return the error."""
    before = await row_counts(session)
    outcome = await run(gql, mutation, input, token)
    assert outcome["__typename"] in ("ValidationError", "NotFound", "Forbidden", "Conflict"), (
        outcome
    )
    assert await row_counts(session) == before
    return outcome


def field_codes(error: dict[str, Any]) -> list[tuple[list[str], str]]:
    return [(f["path"], f["code"]) for f in error["fields"]]


async def member_roles(gql: Any, token: str, group: str) -> dict[str, str]:
    result = await gql(MEMBERS, {"slug": group}, token=token)
    edges = result["data"]["workingGroup"]["members"]["edges"]
    return {e["node"]["organisation"]["slug"]: e["node"]["role"] for e in edges}


def new_org(**overrides: Any) -> dict[str, Any]:
    return {
        "slug": "fake-hunters",
        "name": "Fake Hunters Ltd",
        "kind": "RIGHTS_HOLDER",
        **overrides,
    }


def new_group(**overrides: Any) -> dict[str, Any]:
    return {"slug": "pharma", "name": "Pharmaceuticals", "sector": "pharma", **overrides}


# --- happy paths ---------------------------------------------------------------------------


async def test_create_organisation(gql, demo, issue_token, session) -> None:
    head = await log_head(session)

    outcome = await run(
        gql,
        "createOrganisation",
        new_org(name="  Fake Hunters Ltd ", country="gb", verified=True),
        admin(demo, issue_token),
    )

    assert outcome["__typename"] == "CreateOrganisationPayload"
    org = outcome["organisation"]
    assert {k: v for k, v in org.items() if k != "id"} == {
        "slug": "fake-hunters",
        "name": "Fake Hunters Ltd",
        "kind": "RIGHTS_HOLDER",
        "country": "GB",
        "verified": True,
        "workingGroups": {"totalCount": 0},
    }
    type_name, raw_id = from_global_id(org["id"])
    assert type_name == "Organisation"
    stored = await repo.organisation_by_slug(session, "fake-hunters")
    assert stored is not None
    assert stored.id == raw_id
    [entry] = await log_after(session, head)
    assert (entry.kind, entry.operation, entry.object_id, entry.version) == (
        "organisation",
        Operation.CREATE,
        str(raw_id),
        1,
    )


async def test_create_organisation_without_a_country(gql, demo, issue_token, session) -> None:
    outcome = await run(gql, "createOrganisation", new_org(country=None), admin(demo, issue_token))

    assert outcome["organisation"]["country"] is None
    assert outcome["organisation"]["verified"] is False


async def test_create_working_group(gql, demo, issue_token, session) -> None:
    head = await log_head(session)

    outcome = await run(
        gql,
        "createWorkingGroup",
        new_group(charter="Falsified medicines sold online."),
        admin(demo, issue_token),
    )

    assert outcome["__typename"] == "CreateWorkingGroupPayload"
    group = outcome["workingGroup"]
    assert {k: v for k, v in group.items() if k != "id"} == {
        "slug": "pharma",
        "name": "Pharmaceuticals",
        "sector": "pharma",
        "charter": "Falsified medicines sold online.",
        "members": {"totalCount": 0},
    }
    _, raw_id = from_global_id(group["id"], expected="WorkingGroup")
    [entry] = await log_after(session, head)
    assert (entry.kind, entry.operation, entry.object_id, entry.working_group_id) == (
        "working_group",
        Operation.CREATE,
        str(raw_id),
        raw_id,
    )


async def test_add_working_group_member(gql, demo, issue_token, session) -> None:
    token = admin(demo, issue_token)
    head = await log_head(session)

    outcome = await run(
        gql, "addWorkingGroupMember", seat(demo, "luxury-goods", "acme-motors", "OBSERVER"), token
    )

    assert outcome["__typename"] == "MembershipPayload"
    membership = outcome["membership"]
    assert membership["role"] == "OBSERVER"
    assert membership["organisation"] == {"slug": "acme-motors"}
    assert membership["workingGroup"] == {"slug": "luxury-goods"}
    assert (await member_roles(gql, token, "luxury-goods"))["acme-motors"] == "OBSERVER"
    _, raw_id = from_global_id(membership["id"], expected="Membership")
    [entry] = await log_after(session, head)
    assert (entry.kind, entry.operation, entry.object_id, entry.version) == (
        "membership",
        Operation.CREATE,
        str(raw_id),
        1,
    )
    assert entry.owner_org_id == demo["orgs"]["acme-motors"].id
    assert entry.working_group_id == demo["groups"]["luxury-goods"].id


async def test_change_working_group_role(gql, demo, issue_token, session) -> None:
    token = admin(demo, issue_token)
    head = await log_head(session)

    outcome = await run(
        gql, "changeWorkingGroupRole", seat(demo, "automotive-parts", "shopmart", "CHAIR"), token
    )

    assert outcome["__typename"] == "MembershipPayload"
    assert outcome["membership"]["role"] == "CHAIR"
    roles = await member_roles(gql, token, "automotive-parts")
    assert (roles["shopmart"], roles["acme-motors"]) == ("CHAIR", "CHAIR")
    _, raw_id = from_global_id(outcome["membership"]["id"])
    [entry] = await log_after(session, head)
    assert (entry.kind, entry.operation, entry.object_id, entry.version) == (
        "membership",
        Operation.UPDATE,
        str(raw_id),
        2,
    )


async def test_changing_to_the_same_role_writes_nothing(gql, demo, issue_token, session) -> None:
    before = await row_counts(session)

    outcome = await run(
        gql,
        "changeWorkingGroupRole",
        seat(demo, "automotive-parts", "shopmart", "MEMBER"),
        admin(demo, issue_token),
    )

    assert outcome["__typename"] == "MembershipPayload"
    assert outcome["membership"]["role"] == "MEMBER"
    assert await row_counts(session) == before


async def test_a_chair_may_step_down_once_another_chair_is_appointed(
    gql, demo, issue_token, session
) -> None:
    token = admin(demo, issue_token)
    await run(gql, "changeWorkingGroupRole", seat(demo, "luxury-goods", "shopmart", "CHAIR"), token)

    outcome = await run(
        gql, "changeWorkingGroupRole", seat(demo, "luxury-goods", "luxe-house", "MEMBER"), token
    )

    assert outcome["membership"]["role"] == "MEMBER"
    roles = await member_roles(gql, token, "luxury-goods")
    assert (roles["shopmart"], roles["luxe-house"]) == ("CHAIR", "MEMBER")


async def test_remove_working_group_member(gql, demo, issue_token, session) -> None:
    token = admin(demo, issue_token)
    head = await log_head(session)
    before = await row_counts(session)

    outcome = await run(
        gql, "removeWorkingGroupMember", seat(demo, "consumer-electronics", "city-police"), token
    )

    assert outcome["__typename"] == "RemoveWorkingGroupMemberPayload"
    assert outcome["workingGroupId"] == group_id(demo, "consumer-electronics")
    assert outcome["organisationId"] == org_id(demo, "city-police")
    assert "city-police" not in await member_roles(gql, token, "consumer-electronics")
    after = await row_counts(session)
    assert after["memberships"] == before["memberships"] - 1
    _, raw_id = from_global_id(outcome["removedMembershipId"], expected="Membership")
    [entry] = await log_after(session, head)
    assert (entry.kind, entry.operation, entry.object_id, entry.version) == (
        "membership",
        Operation.DELETE,
        str(raw_id),
        2,
    )
    assert entry.owner_org_id == demo["orgs"]["city-police"].id


async def test_a_removed_member_may_be_added_again(gql, demo, issue_token, session) -> None:
    token = admin(demo, issue_token)
    await run(gql, "removeWorkingGroupMember", seat(demo, "luxury-goods", "shopmart"), token)

    outcome = await run(
        gql, "addWorkingGroupMember", seat(demo, "luxury-goods", "shopmart", "OBSERVER"), token
    )

    assert outcome["membership"]["role"] == "OBSERVER"


# --- createOrganisation: bad input ---------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"name": ""}, [(["name"], "BLANK")], id="empty-name"),
        pytest.param({"name": " \t "}, [(["name"], "BLANK")], id="blank-name"),
        pytest.param({"name": "x" * 201}, [(["name"], "TOO_LONG")], id="long-name"),
        pytest.param({"name": "nul\x00byte"}, [(["name"], "INVALID_CHARACTERS")], id="nul-name"),
        pytest.param({"slug": "a" * 64}, [(["slug"], "INVALID_SLUG")], id="long-slug"),
        pytest.param({"slug": ""}, [(["slug"], "INVALID_SLUG")], id="empty-slug"),
        pytest.param({"slug": "Fake_Hunters"}, [(["slug"], "INVALID_SLUG")], id="slug-chars"),
        pytest.param({"slug": "fake hunters"}, [(["slug"], "INVALID_SLUG")], id="slug-space"),
        pytest.param({"slug": "-fake"}, [(["slug"], "INVALID_SLUG")], id="slug-leading-hyphen"),
        pytest.param({"slug": "fake-"}, [(["slug"], "INVALID_SLUG")], id="slug-trailing-hyphen"),
        pytest.param({"slug": "fälschung"}, [(["slug"], "INVALID_SLUG")], id="slug-non-ascii"),
        pytest.param({"country": "XX"}, [(["country"], "INVALID_COUNTRY")], id="country-xx"),
        pytest.param({"country": "DEU"}, [(["country"], "INVALID_COUNTRY")], id="country-alpha3"),
        pytest.param({"country": "Germany"}, [(["country"], "INVALID_COUNTRY")], id="country-name"),
        pytest.param(
            {"slug": "Bad Slug", "name": "", "country": "ZZ"},
            [(["slug"], "INVALID_SLUG"), (["name"], "BLANK"), (["country"], "INVALID_COUNTRY")],
            id="every-problem-at-once",
        ),
    ],
)
async def test_create_organisation_refuses_bad_input(
    gql, demo, issue_token, session, overrides, expected
) -> None:
    error = await refused(
        gql, session, "createOrganisation", new_org(**overrides), admin(demo, issue_token)
    )

    assert error["__typename"] == "ValidationError"
    assert error["code"] == "INVALID"
    assert field_codes(error) == expected
    assert all(f["message"] for f in error["fields"])


async def test_the_longest_names_and_slugs_are_accepted(gql, demo, issue_token, session) -> None:
    outcome = await run(
        gql,
        "createOrganisation",
        new_org(slug="a" * 63, name="n" * 200),
        admin(demo, issue_token),
    )

    assert outcome["__typename"] == "CreateOrganisationPayload"
    assert outcome["organisation"]["slug"] == "a" * 63


@pytest.mark.parametrize("slug", ["acme-motors", " acme-motors "])
async def test_create_organisation_with_a_taken_slug_is_a_conflict(
    gql, demo, issue_token, session, slug: str
) -> None:
    error = await refused(
        gql, session, "createOrganisation", new_org(slug=slug), admin(demo, issue_token)
    )

    assert error["__typename"] == "Conflict"
    assert error["code"] == "CONFLICT"
    assert "acme-motors" in error["message"]


# --- createWorkingGroup: bad input ---------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"name": ""}, [(["name"], "BLANK")], id="empty-name"),
        pytest.param({"name": "   "}, [(["name"], "BLANK")], id="blank-name"),
        pytest.param({"name": "x" * 201}, [(["name"], "TOO_LONG")], id="long-name"),
        pytest.param({"sector": " "}, [(["sector"], "BLANK")], id="blank-sector"),
        pytest.param({"sector": "s" * 101}, [(["sector"], "TOO_LONG")], id="long-sector"),
        pytest.param({"charter": "c" * 20_001}, [(["charter"], "TOO_LONG")], id="long-charter"),
        pytest.param({"slug": "p" * 64}, [(["slug"], "INVALID_SLUG")], id="long-slug"),
        pytest.param({"slug": "Pharma!"}, [(["slug"], "INVALID_SLUG")], id="slug-chars"),
        pytest.param({"slug": "   "}, [(["slug"], "INVALID_SLUG")], id="blank-slug"),
        pytest.param(
            {"slug": "UPPER", "name": "", "sector": ""},
            [(["slug"], "INVALID_SLUG"), (["name"], "BLANK"), (["sector"], "BLANK")],
            id="every-problem-at-once",
        ),
    ],
)
async def test_create_working_group_refuses_bad_input(
    gql, demo, issue_token, session, overrides, expected
) -> None:
    error = await refused(
        gql, session, "createWorkingGroup", new_group(**overrides), admin(demo, issue_token)
    )

    assert error["__typename"] == "ValidationError"
    assert error["code"] == "INVALID"
    assert field_codes(error) == expected


async def test_create_working_group_with_a_taken_slug_is_a_conflict(
    gql, demo, issue_token, session
) -> None:
    error = await refused(
        gql,
        session,
        "createWorkingGroup",
        new_group(slug="luxury-goods"),
        admin(demo, issue_token),
    )

    assert error["__typename"] == "Conflict"
    assert error["code"] == "CONFLICT"
    assert "luxury-goods" in error["message"]


async def test_working_group_and_organisation_slugs_are_separate(
    gql, demo, issue_token, session
) -> None:
    outcome = await run(
        gql, "createWorkingGroup", new_group(slug="acme-motors"), admin(demo, issue_token)
    )

    assert outcome["__typename"] == "CreateWorkingGroupPayload"


# --- membership mutations: bad input -------------------------------------------------------

SEAT_MUTATIONS = ["addWorkingGroupMember", "changeWorkingGroupRole", "removeWorkingGroupMember"]


def seat_input(mutation: str, group: str, org: str, role: str = "MEMBER") -> dict[str, Any]:
    value = {"workingGroupId": group, "organisationId": org}
    return value if mutation == "removeWorkingGroupMember" else {**value, "role": role}


@pytest.mark.parametrize("mutation", SEAT_MUTATIONS)
@pytest.mark.parametrize(
    ("group", "org", "expected"),
    [
        pytest.param("garbage", "ORG", [(["workingGroupId"], "INVALID_ID")], id="bad-group-id"),
        pytest.param("GROUP", "", [(["organisationId"], "INVALID_ID")], id="empty-org-id"),
        pytest.param(
            "!!!",
            "%%%",
            [(["workingGroupId"], "INVALID_ID"), (["organisationId"], "INVALID_ID")],
            id="both-bad",
        ),
        pytest.param("ORG", "ORG", [(["workingGroupId"], "WRONG_ID_TYPE")], id="org-as-group"),
        pytest.param(
            "GROUP",
            "GROUP",
            [(["organisationId"], "WRONG_ID_TYPE")],
            id="group-as-org",
        ),
    ],
)
async def test_membership_mutations_refuse_malformed_ids(
    gql, demo, issue_token, session, mutation: str, group: str, org: str, expected
) -> None:
    ids = {"ORG": org_id(demo, "shopmart"), "GROUP": group_id(demo, "luxury-goods")}

    error = await refused(
        gql,
        session,
        mutation,
        seat_input(mutation, ids.get(group, group), ids.get(org, org)),
        admin(demo, issue_token),
    )

    assert error["__typename"] == "ValidationError"
    assert field_codes(error) == expected


@pytest.mark.parametrize("mutation", SEAT_MUTATIONS)
@pytest.mark.parametrize("missing", ["group", "org"])
async def test_membership_mutations_on_unknown_objects_are_not_found(
    gql, demo, issue_token, session, mutation: str, missing: str
) -> None:
    group = (
        to_global_id("WorkingGroup", uuid.uuid4())
        if missing == "group"
        else group_id(demo, "luxury-goods")
    )
    org = (
        to_global_id("Organisation", uuid.uuid4()) if missing == "org" else org_id(demo, "shopmart")
    )

    error = await refused(
        gql, session, mutation, seat_input(mutation, group, org), admin(demo, issue_token)
    )

    assert error["__typename"] == "NotFound"
    assert error["code"] == "NOT_FOUND"
    assert ("working group" if missing == "group" else "organisation") in error["message"]


@pytest.mark.parametrize("mutation", ["changeWorkingGroupRole", "removeWorkingGroupMember"])
async def test_a_seat_that_does_not_exist_is_not_found(
    gql, demo, issue_token, session, mutation: str
) -> None:
    error = await refused(
        gql,
        session,
        mutation,
        seat_input(mutation, group_id(demo, "luxury-goods"), org_id(demo, "acme-motors")),
        admin(demo, issue_token),
    )

    assert error["__typename"] == "NotFound"
    assert error["code"] == "NOT_FOUND"


@pytest.mark.parametrize("role", ["MEMBER", "CHAIR"])
async def test_adding_an_existing_member_is_a_conflict(
    gql, demo, issue_token, session, role: str
) -> None:
    error = await refused(
        gql,
        session,
        "addWorkingGroupMember",
        seat(demo, "automotive-parts", "shopmart", role),
        admin(demo, issue_token),
    )

    assert error["__typename"] == "Conflict"
    assert error["code"] == "CONFLICT"
    assert await member_roles(gql, admin(demo, issue_token), "automotive-parts") == {
        "acme-motors": "CHAIR",
        "shopmart": "MEMBER",
        "city-police": "MEMBER",
        "guild-of-trainers": "MEMBER",
        "alliance-office": "OBSERVER",
    }


@pytest.mark.parametrize("role", ["MEMBER", "OBSERVER"])
async def test_demoting_the_last_chair_is_a_conflict(
    gql, demo, issue_token, session, role: str
) -> None:
    error = await refused(
        gql,
        session,
        "changeWorkingGroupRole",
        seat(demo, "consumer-electronics", "volt-electronics", role),
        admin(demo, issue_token),
    )

    assert error["__typename"] == "Conflict"
    assert error["code"] == "CONFLICT"
    assert "chair" in error["message"]
    roles = await member_roles(gql, admin(demo, issue_token), "consumer-electronics")
    assert roles["volt-electronics"] == "CHAIR"


async def test_removing_the_last_chair_is_a_conflict(gql, demo, issue_token, session) -> None:
    error = await refused(
        gql,
        session,
        "removeWorkingGroupMember",
        seat(demo, "automotive-parts", "acme-motors"),
        admin(demo, issue_token),
    )

    assert error["__typename"] == "Conflict"
    assert error["code"] == "CONFLICT"
    roles = await member_roles(gql, admin(demo, issue_token), "automotive-parts")
    assert roles["acme-motors"] == "CHAIR"


# --- values GraphQL itself refuses ---------------------------------------------------------


async def assert_rejected_by_graphql(
    gql: Any, session: Any, query: str, variables: dict[str, Any], token: str
) -> list[dict[str, Any]]:
    before = await row_counts(session)
    result = await gql(query, variables, token=token)
    assert result["data"] is None, result
    assert result["errors"]
    assert {e["extensions"]["code"] for e in result["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}
    assert await row_counts(session) == before
    return result["errors"]


@pytest.mark.parametrize(
    ("mutation", "input"),
    [
        pytest.param("createOrganisation", new_org(kind="SPACESHIP"), id="kind"),
        pytest.param("createOrganisation", new_org(kind="brand"), id="kind-lowercase"),
        pytest.param("addWorkingGroupMember", {"role": "OWNER"}, id="add-role"),
        pytest.param("changeWorkingGroupRole", {"role": "chair"}, id="change-role"),
    ],
)
async def test_unknown_enum_values_in_variables_are_rejected(
    gql, demo, issue_token, session, mutation: str, input: dict[str, Any]
) -> None:
    if mutation != "createOrganisation":
        input = {**seat(demo, "luxury-goods", "acme-motors"), **input}

    errors = await assert_rejected_by_graphql(
        gql, session, MUTATIONS[mutation], {"input": input}, admin(demo, issue_token)
    )

    assert any("$input" in e["message"] for e in errors)


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(
            'mutation { createOrganisation(input: {slug: "x", name: "X", kind: SPACESHIP}) '
            "{ __typename } }",
            id="kind-literal",
        ),
        pytest.param(
            'mutation { addWorkingGroupMember(input: {workingGroupId: "G", organisationId: "O",'
            " role: OWNER}) { __typename } }",
            id="role-literal",
        ),
        pytest.param(
            'mutation { removeWorkingGroupMember(input: {workingGroupId: "G"}) { __typename } }',
            id="missing-field",
        ),
        pytest.param(
            'mutation { createWorkingGroup(input: {slug: "x", name: "X", sector: "s", '
            'colour: "red"}) { __typename } }',
            id="unknown-field",
        ),
    ],
)
async def test_invalid_documents_are_rejected(
    gql, demo, issue_token, session, document: str
) -> None:
    await assert_rejected_by_graphql(gql, session, document, {}, admin(demo, issue_token))


async def test_a_missing_input_variable_is_rejected(gql, demo, issue_token, session) -> None:
    await assert_rejected_by_graphql(
        gql, session, CREATE_WORKING_GROUP, {}, admin(demo, issue_token)
    )


# --- permissions ---------------------------------------------------------------------------


def valid_input(demo: dict[str, Any], mutation: str) -> dict[str, Any]:
    """An input each mutation would accept from an operator."""
    return {
        "createOrganisation": new_org(),
        "createWorkingGroup": new_group(),
        "addWorkingGroupMember": seat(demo, "luxury-goods", "acme-motors", "MEMBER"),
        "changeWorkingGroupRole": seat(demo, "luxury-goods", "shopmart", "OBSERVER"),
        "removeWorkingGroupMember": seat(demo, "luxury-goods", "shopmart"),
    }[mutation]


@pytest.mark.parametrize("mutation", list(MUTATIONS))
async def test_every_mutation_needs_a_token(gql, demo, session, mutation: str) -> None:
    error = await refused(gql, session, mutation, valid_input(demo, mutation), None)

    assert error["__typename"] == "Forbidden"
    assert error["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("mutation", list(MUTATIONS))
@pytest.mark.parametrize(
    "scopes", ["indicators:read", "indicators:read indicators:write sightings:write"]
)
async def test_every_mutation_needs_an_admin_scope(
    gql, demo, issue_token, session, mutation: str, scopes: str
) -> None:
    token = issue_token(demo["orgs"]["luxe-house"], scopes)

    error = await refused(gql, session, mutation, valid_input(demo, mutation), token)

    assert error["__typename"] == "Forbidden"
    assert error["code"] == "FORBIDDEN"


@pytest.mark.parametrize("mutation", ["createOrganisation", "createWorkingGroup"])
async def test_an_org_admin_may_not_create_directory_entries(
    gql, demo, issue_token, session, mutation: str
) -> None:
    token = issue_token(demo["orgs"]["acme-motors"], "org:admin")

    error = await refused(gql, session, mutation, valid_input(demo, mutation), token)

    assert error["__typename"] == "Forbidden"
    assert error["code"] == "FORBIDDEN"


async def test_a_chair_org_admin_manages_its_own_group(gql, demo, issue_token, session) -> None:
    token = issue_token(demo["orgs"]["acme-motors"], "org:admin")
    head = await log_head(session)

    added = await run(
        gql,
        "addWorkingGroupMember",
        seat(demo, "automotive-parts", "volt-electronics", "MEMBER"),
        token,
    )
    changed = await run(
        gql, "changeWorkingGroupRole", seat(demo, "automotive-parts", "shopmart", "OBSERVER"), token
    )
    removed = await run(
        gql, "removeWorkingGroupMember", seat(demo, "automotive-parts", "guild-of-trainers"), token
    )

    assert added["__typename"] == "MembershipPayload"
    assert changed["__typename"] == "MembershipPayload"
    assert removed["__typename"] == "RemoveWorkingGroupMemberPayload"
    entries = await log_after(session, head)
    assert [(e.kind, e.operation) for e in entries] == [
        ("membership", Operation.CREATE),
        ("membership", Operation.UPDATE),
        ("membership", Operation.DELETE),
    ]
    assert {e.working_group_id for e in entries} == {demo["groups"]["automotive-parts"].id}


@pytest.mark.parametrize("mutation", SEAT_MUTATIONS)
async def test_a_chair_org_admin_may_not_manage_another_group(
    gql, demo, issue_token, session, mutation: str
) -> None:
    token = issue_token(demo["orgs"]["acme-motors"], "org:admin")

    error = await refused(gql, session, mutation, valid_input(demo, mutation), token)

    assert error["__typename"] == "Forbidden"
    assert error["code"] == "FORBIDDEN"
    assert "luxury-goods" in error["message"]


@pytest.mark.parametrize("org", ["shopmart", "alliance-office", "luxe-house"])
async def test_an_org_admin_that_does_not_chair_may_not_manage_the_group(
    gql, demo, issue_token, session, org: str
) -> None:
    """A member, an observer, and an outsider (luxe-house chairs another group) are all refused."""
    token = issue_token(demo["orgs"][org], "org:admin")

    error = await refused(
        gql,
        session,
        "addWorkingGroupMember",
        seat(demo, "automotive-parts", "volt-electronics", "MEMBER"),
        token,
    )

    assert error["__typename"] == "Forbidden"
    assert error["code"] == "FORBIDDEN"


async def test_a_chair_may_not_remove_itself_as_last_chair(gql, demo, issue_token, session) -> None:
    token = issue_token(demo["orgs"]["acme-motors"], "org:admin")

    error = await refused(
        gql,
        session,
        "removeWorkingGroupMember",
        seat(demo, "automotive-parts", "acme-motors"),
        token,
    )

    assert error["__typename"] == "Conflict"
