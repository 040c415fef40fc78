"""Managing OAuth clients, local users and trusted issuers over GraphQL: payloads, typed
errors, operators against organisation admins, audit entries, the statement count of the
lists, and a client made here getting a token over real HTTP.

Every refused mutation is checked for writing nothing: the identity tables are counted
before and after (and its denial is audited)."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc.jwk import RSAKey
from sqlalchemy import func, select, text

from alliance.audit.models import AuditEntry
from alliance.auth import credentials
from alliance.auth.models import OAuthClient
from alliance.db import unit_of_work
from alliance.orgs.models import Person
from schema.relay import to_global_id
from tests.alliance.auth.conftest import Alliance
from tests.alliance.auth.conftest import alliance as served_alliance  # noqa: F401  (a fixture)
from tests.schema.test_query_counts import recorded_statements

TABLES = ("oauth_clients", "oauth_trusted_issuers", "people")
ERRORS = """
  __typename
  ... on Error { message code }
  ... on ValidationError { fields { path code message } }
"""
CLIENT_FIELDS = """
  id clientId name scopes grantTypes redirectUris authMethod enabled rateLimitPerMinute createdAt
  organisation { slug } workingGroups { slug }
"""

CREATE_CLIENT = f"""
mutation ($input: CreateOAuthClientInput!) {{
  createOAuthClient(input: $input) {{
    {ERRORS}
    ... on CreateOAuthClientPayload {{ clientSecret client {{ {CLIENT_FIELDS} }} }}
  }}
}}
"""
DISABLE_CLIENT = f"""
mutation ($input: OAuthClientInput!) {{
  disableOAuthClient(input: $input) {{
    {ERRORS}
    ... on OAuthClientPayload {{ client {{ clientId enabled }} }}
  }}
}}
"""
ENABLE_CLIENT = DISABLE_CLIENT.replace("disableOAuthClient", "enableOAuthClient")
ROTATE_SECRET = f"""
mutation ($input: OAuthClientInput!) {{
  rotateOAuthClientSecret(input: $input) {{
    {ERRORS}
    ... on RotateOAuthClientSecretPayload {{ clientSecret client {{ clientId }} }}
  }}
}}
"""
CREATE_USER = f"""
mutation ($input: CreateLocalUserInput!) {{
  createLocalUser(input: $input) {{
    {ERRORS}
    ... on CreateLocalUserPayload {{
      created orgAdmin person {{ id email displayName organisation {{ slug }} }}
    }}
  }}
}}
"""
ADD_ISSUER = f"""
mutation ($input: AddTrustedIssuerInput!) {{
  addTrustedIssuer(input: $input) {{
    {ERRORS}
    ... on AddTrustedIssuerPayload {{
      trustedIssuer {{ id issuer jwksUrl jwks enabled organisation {{ slug }} }}
    }}
  }}
}}
"""
REMOVE_ISSUER = f"""
mutation ($input: RemoveTrustedIssuerInput!) {{
  removeTrustedIssuer(input: $input) {{
    {ERRORS}
    ... on RemoveTrustedIssuerPayload {{ removedTrustedIssuerId issuer }}
  }}
}}
"""
MUTATIONS = {
    "createOAuthClient": CREATE_CLIENT,
    "disableOAuthClient": DISABLE_CLIENT,
    "enableOAuthClient": ENABLE_CLIENT,
    "rotateOAuthClientSecret": ROTATE_SECRET,
    "createLocalUser": CREATE_USER,
    "addTrustedIssuer": ADD_ISSUER,
    "removeTrustedIssuer": REMOVE_ISSUER,
}
CLIENTS = f"""
query ($org: ID, $first: Int, $after: String) {{
  oauthClients(organisationId: $org, first: $first, after: $after) {{
    totalCount
    edges {{ node {{ {CLIENT_FIELDS} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""
ISSUERS = """
query ($org: ID, $first: Int, $after: String) {
  trustedIssuers(organisationId: $org, first: $first, after: $after) {
    totalCount
    edges { node { issuer jwksUrl organisation { slug } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
PASSWORD = "correct horse battery staple"


# --- helpers -------------------------------------------------------------------------------


def org_id(demo: dict[str, Any], slug: str) -> str:
    return to_global_id("Organisation", demo["orgs"][slug].id)


def group_id(demo: dict[str, Any], slug: str) -> str:
    return to_global_id("WorkingGroup", demo["groups"][slug].id)


@pytest.fixture
def tokens(demo: dict[str, Any], issue_token: Any) -> dict[str, str]:
    orgs = demo["orgs"]
    return {
        "operator": issue_token(orgs["alliance-office"], "admin"),
        "shopmart-admin": issue_token(orgs["shopmart"], "org:admin"),
        "acme-admin": issue_token(orgs["acme-motors"], "org:admin"),
        "office-admin": issue_token(orgs["alliance-office"], "org:admin"),
        "shopmart-reader": issue_token(orgs["shopmart"], "sync:read indicators:read"),
    }


def new_client(demo: dict[str, Any], org: str = "shopmart", **overrides: Any) -> dict[str, Any]:
    return {
        "organisationId": org_id(demo, org),
        "name": f"{org} sync",
        "scopes": ["listings:check", "sync:read"],
        **overrides,
    }


async def row_counts(session: Any) -> dict[str, int]:
    return {t: int(await session.scalar(text(f"SELECT count(*) FROM {t}"))) for t in TABLES}


async def audit_head(session: Any) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0))))


async def audited_since(session: Any, seq: int) -> list[tuple[str, str, str | None]]:
    rows = await session.execute(
        select(AuditEntry.action, AuditEntry.outcome, AuditEntry.target_id)
        .where(AuditEntry.seq > seq)
        .order_by(AuditEntry.seq)
    )
    return [tuple(r) for r in rows]


async def run(gql: Any, mutation: str, input: dict[str, Any], token: str) -> dict[str, Any]:
    result = await gql(MUTATIONS[mutation], {"input": input}, token=token)
    assert "errors" not in result, result
    return result["data"][mutation]


async def refused(
    gql: Any, session: Any, mutation: str, input: dict[str, Any], token: str, typename: str
) -> dict[str, Any]:
    """Run a mutation that must fail with ``typename`` and write nothing; return the error."""
    before = await row_counts(session)
    outcome = await run(gql, mutation, input, token)
    assert outcome["__typename"] == typename, outcome
    assert await row_counts(session) == before
    return outcome


def field_codes(error: dict[str, Any]) -> list[tuple[list[str], str]]:
    return [(f["path"], f["code"]) for f in error["fields"]]


async def create_client(gql: Any, demo: Any, token: str, **overrides: Any) -> dict[str, Any]:
    outcome = await run(gql, "createOAuthClient", new_client(demo, **overrides), token)
    assert outcome["__typename"] == "CreateOAuthClientPayload", outcome
    return outcome


async def stored_secret_hash(session: Any, client_id: str) -> str | None:
    return await session.scalar(
        select(OAuthClient.secret_hash).where(OAuthClient.client_id == client_id)
    )


def public_jwks(kid: str = "idp-1") -> dict[str, Any]:
    key = RSAKey.generate_key(2048, private=True, parameters={"kid": kid})
    return {"keys": [key.as_dict(private=False)]}


# --- createOAuthClient ---------------------------------------------------------------------


async def test_an_operator_creates_a_client_and_sees_its_secret_once(
    gql, demo, tokens, session
) -> None:
    head = await audit_head(session)

    outcome = await create_client(
        gql,
        demo,
        tokens["operator"],
        workingGroups=[group_id(demo, "automotive-parts")],
        rateLimitPerMinute=120,
    )

    client, secret = outcome["client"], outcome["clientSecret"]
    assert {k: v for k, v in client.items() if k not in ("id", "clientId", "createdAt")} == {
        "name": "shopmart sync",
        "scopes": ["listings:check", "sync:read"],
        "grantTypes": ["CLIENT_CREDENTIALS"],
        "redirectUris": [],
        "authMethod": "CLIENT_SECRET_BASIC",
        "enabled": True,
        "rateLimitPerMinute": 120,
        "organisation": {"slug": "shopmart"},
        "workingGroups": [{"slug": "automotive-parts"}],
    }
    assert client["clientId"].startswith("cl_")
    stored = await stored_secret_hash(session, client["clientId"])
    assert stored is not None
    assert secret not in stored
    assert credentials.check_client_secret(stored, secret)
    assert await audited_since(session, head) == [
        ("oauth_client.create", "allowed", client["clientId"])
    ]
    detail = await session.scalar(
        select(AuditEntry.detail).where(AuditEntry.action == "oauth_client.create")
    )
    assert secret not in str(detail)
    assert stored not in str(detail)


async def test_the_secret_is_never_readable_afterwards(gql, demo, tokens) -> None:
    outcome = await create_client(gql, demo, tokens["operator"])

    listed = await gql(CLIENTS, {"org": org_id(demo, "shopmart")}, token=tokens["operator"])
    invalid = await gql(
        "{ oauthClients { edges { node { secretHash } } } }", token=tokens["operator"]
    )

    assert outcome["clientSecret"] not in str(listed)
    assert invalid["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_an_organisation_admin_creates_a_client_of_its_own_organisation(
    gql, demo, tokens
) -> None:
    outcome = await create_client(
        gql,
        demo,
        tokens["shopmart-admin"],
        grantTypes=["AUTHORIZATION_CODE", "REFRESH_TOKEN"],
        redirectUris=["https://app.shopmart.example/callback"],
        authMethod="NONE",
    )

    client = outcome["client"]
    assert outcome["clientSecret"] is None  # a public client has no secret
    assert client["workingGroups"] is None  # every group its organisation sits in
    assert client["grantTypes"] == ["AUTHORIZATION_CODE", "REFRESH_TOKEN"]
    assert client["authMethod"] == "NONE"


async def test_a_key_holding_client_gets_no_secret(gql, demo, tokens) -> None:
    outcome = await create_client(
        gql, demo, tokens["operator"], authMethod="PRIVATE_KEY_JWT", jwks=public_jwks()
    )
    assert outcome["clientSecret"] is None
    assert outcome["client"]["authMethod"] == "PRIVATE_KEY_JWT"


async def test_an_organisation_admin_may_not_create_another_organisations_client(
    gql, demo, tokens, session
) -> None:
    head = await audit_head(session)

    error = await refused(
        gql,
        session,
        "createOAuthClient",
        new_client(demo, "acme-motors"),
        tokens["shopmart-admin"],
        "Forbidden",
    )

    assert "own organisation" in error["message"]
    assert await audited_since(session, head) == [("graphql.createOAuthClient", "denied", None)]


@pytest.mark.parametrize(
    ("token", "org", "overrides", "fields"),
    [
        pytest.param(
            "operator", "shopmart", {"scopes": ["admin"]}, [(["scopes"], "NOT_ENTITLED")],
            id="admin-for-a-member",
        ),
        pytest.param(
            "office-admin", "alliance-office", {"scopes": ["admin"]},
            [(["scopes"], "NOT_ENTITLED")], id="admin-from-a-non-operator",
        ),
        pytest.param(
            "acme-admin", "acme-motors",
            {"workingGroups": ["AUTOMOTIVE", "LUXURY"]},
            [(["workingGroups"], "NOT_A_MEMBER")], id="group-without-a-seat",
        ),
        pytest.param(
            "operator", "shopmart", {"scopes": ["indicators:read", "root"]},
            [(["scopes"], "UNKNOWN_SCOPE")], id="unknown-scope",
        ),
        pytest.param(
            "operator", "shopmart", {"scopes": []}, [(["scopes"], "REQUIRED")], id="no-scope",
        ),
        pytest.param(
            "operator", "shopmart",
            {"grantTypes": ["AUTHORIZATION_CODE"], "redirectUris": ["http://evil.example/cb"]},
            [(["redirectUris"], "INSECURE_REDIRECT")], id="insecure-redirect",
        ),
        pytest.param(
            "operator", "shopmart", {"authMethod": "NONE"}, [(["authMethod"], "PUBLIC_CLIENT")],
            id="public-machine",
        ),
        pytest.param(
            "operator", "shopmart", {"authMethod": "PRIVATE_KEY_JWT"}, [(["jwks"], "REQUIRED")],
            id="keys-missing",
        ),
        pytest.param(
            "operator", "shopmart", {"authMethod": "PRIVATE_KEY_JWT", "jwksUrl": "ftp://x/k"},
            [(["jwksUrl"], "INVALID_URL")], id="keys-url",
        ),
        pytest.param(
            "operator", "shopmart", {"name": "  "}, [(["name"], "BLANK")], id="blank-name",
        ),
        pytest.param(
            "operator", "shopmart", {"organisationId": "bm9wZQ"},
            [(["organisationId"], "INVALID_ID")], id="bad-organisation-id",
        ),
        pytest.param(
            "operator", "shopmart", {"workingGroups": ["bm9wZQ"]},
            [(["workingGroups", "0"], "INVALID_ID")], id="bad-group-id",
        ),
    ],
)  # fmt: skip
async def test_a_client_never_gets_more_than_its_organisation_is_entitled_to(
    gql, demo, tokens, session, token: str, org: str, overrides: dict[str, Any], fields: Any
) -> None:
    groups = {"AUTOMOTIVE": "automotive-parts", "LUXURY": "luxury-goods"}
    overrides = dict(overrides)  # the parameters are shared by both databases' runs
    if "workingGroups" in overrides:
        overrides["workingGroups"] = [
            group_id(demo, groups[g]) if g in groups else g for g in overrides["workingGroups"]
        ]

    error = await refused(
        gql,
        session,
        "createOAuthClient",
        new_client(demo, org, **overrides),
        tokens[token],
        "ValidationError",
    )

    assert field_codes(error) == fields
    if fields[0][1] == "NOT_A_MEMBER":
        assert "luxury-goods" in error["fields"][0]["message"]


async def test_an_unknown_organisation_is_not_found(gql, demo, tokens, session) -> None:
    missing = to_global_id("Organisation", "00000000-0000-4000-8000-000000000000")

    await refused(
        gql,
        session,
        "createOAuthClient",
        new_client(demo, organisationId=missing),
        tokens["operator"],
        "NotFound",
    )


@pytest.mark.parametrize("mutation", list(MUTATIONS))
async def test_every_mutation_needs_an_admin_scope(
    gql, demo, tokens, session, mutation: str
) -> None:
    inputs = {
        "createOAuthClient": new_client(demo),
        "disableOAuthClient": {"clientId": "cl_x"},
        "enableOAuthClient": {"clientId": "cl_x"},
        "rotateOAuthClientSecret": {"clientId": "cl_x"},
        "createLocalUser": {
            "organisationId": org_id(demo, "shopmart"),
            "email": "x@shopmart.example",
            "password": PASSWORD,
        },
        "addTrustedIssuer": {
            "organisationId": org_id(demo, "shopmart"),
            "issuer": "https://idp.shopmart.example",
            "jwksUrl": "https://idp.shopmart.example/jwks",
        },
        "removeTrustedIssuer": {"trustedIssuerId": to_global_id("TrustedIssuer", "0" * 32)},
    }

    error = await refused(
        gql, session, mutation, inputs[mutation], tokens["shopmart-reader"], "Forbidden"
    )

    assert error["code"] == "FORBIDDEN"


# --- disable, enable, rotate ----------------------------------------------------------------


async def test_disable_and_enable_a_client(gql, demo, tokens, session) -> None:
    client_id = (await create_client(gql, demo, tokens["shopmart-admin"]))["client"]["clientId"]
    head = await audit_head(session)

    off = await run(gql, "disableOAuthClient", {"clientId": client_id}, tokens["shopmart-admin"])
    on = await run(gql, "enableOAuthClient", {"clientId": client_id}, tokens["operator"])

    assert off == {
        "__typename": "OAuthClientPayload",
        "client": {"clientId": client_id, "enabled": False},
    }
    assert on["client"] == {"clientId": client_id, "enabled": True}
    assert await audited_since(session, head) == [
        ("oauth_client.disable", "allowed", client_id),
        ("oauth_client.enable", "allowed", client_id),
    ]


@pytest.mark.parametrize(
    "mutation", ["disableOAuthClient", "enableOAuthClient", "rotateOAuthClientSecret"]
)
async def test_another_organisations_client_is_forbidden_and_a_missing_one_not_found(
    gql, demo, tokens, session, mutation: str
) -> None:
    client_id = (await create_client(gql, demo, tokens["operator"]))["client"]["clientId"]
    secret_before = await stored_secret_hash(session, client_id)
    head = await audit_head(session)

    forbidden = await refused(
        gql, session, mutation, {"clientId": client_id}, tokens["acme-admin"], "Forbidden"
    )
    await refused(gql, session, mutation, {"clientId": "cl_nope"}, tokens["operator"], "NotFound")

    assert forbidden["code"] == "FORBIDDEN"
    assert await stored_secret_hash(session, client_id) == secret_before
    assert await audited_since(session, head) == [(f"graphql.{mutation}", "denied", None)]
    listed = await gql(CLIENTS, {"org": org_id(demo, "shopmart")}, token=tokens["operator"])
    assert listed["data"]["oauthClients"]["edges"][0]["node"]["enabled"] is True


async def test_rotating_a_secret_replaces_it(gql, demo, tokens, session) -> None:
    created = await create_client(gql, demo, tokens["shopmart-admin"])
    client_id, old = created["client"]["clientId"], created["clientSecret"]
    head = await audit_head(session)

    rotated = await run(
        gql, "rotateOAuthClientSecret", {"clientId": client_id}, tokens["shopmart-admin"]
    )

    new = rotated["clientSecret"]
    stored = await stored_secret_hash(session, client_id)
    assert new
    assert new != old
    assert credentials.check_client_secret(stored, new)
    assert not credentials.check_client_secret(stored, old)
    assert await audited_since(session, head) == [
        ("oauth_client.rotate_secret", "allowed", client_id)
    ]


async def test_a_client_without_a_secret_cannot_rotate_one(gql, demo, tokens, session) -> None:
    created = await create_client(
        gql, demo, tokens["operator"], authMethod="PRIVATE_KEY_JWT", jwks=public_jwks()
    )

    error = await refused(
        gql,
        session,
        "rotateOAuthClientSecret",
        {"clientId": created["client"]["clientId"]},
        tokens["operator"],
        "Conflict",
    )

    assert "private_key_jwt" in error["message"]


# --- createLocalUser -------------------------------------------------------------------------


def new_user(demo: dict[str, Any], org: str = "shopmart", **overrides: Any) -> dict[str, Any]:
    return {
        "organisationId": org_id(demo, org),
        "email": "Buyer@Shopmart.example",
        "password": PASSWORD,
        "displayName": "Shopmart buyer",
        **overrides,
    }


async def test_an_organisation_admin_creates_a_local_user(gql, demo, tokens, session) -> None:
    head = await audit_head(session)

    outcome = await run(
        gql, "createLocalUser", new_user(demo, orgAdmin=True), tokens["shopmart-admin"]
    )

    assert outcome["__typename"] == "CreateLocalUserPayload", outcome
    assert (outcome["created"], outcome["orgAdmin"]) == (True, True)
    assert outcome["person"]["email"] == "buyer@shopmart.example"
    assert outcome["person"]["organisation"] == {"slug": "shopmart"}
    password_hash = await session.scalar(
        select(Person.password_hash).where(Person.email == "buyer@shopmart.example")
    )
    assert password_hash.startswith("$argon2")
    assert credentials.check_password(password_hash, PASSWORD)
    actions = [a for a, _, _ in await audited_since(session, head)]
    assert actions == ["person.set_local_account"]


async def test_an_existing_person_gets_a_password(gql, demo, tokens) -> None:
    outcome = await run(
        gql,
        "createLocalUser",
        new_user(demo, "acme-motors", email="analyst@acme-motors.example"),
        tokens["operator"],
    )

    assert (outcome["__typename"], outcome["created"]) == ("CreateLocalUserPayload", False)


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("", "REQUIRED"),
        ("short1!", "TOO_SHORT"),
        ("aaaaaaaaaaaaaaaa", "WEAK"),
        ("x" * 1025, "TOO_LONG"),
    ],
)
async def test_a_weak_password_is_refused(
    gql, demo, tokens, session, password: str, code: str
) -> None:
    error = await refused(
        gql,
        session,
        "createLocalUser",
        new_user(demo, password=password),
        tokens["operator"],
        "ValidationError",
    )

    assert field_codes(error) == [(["password"], code)]


async def test_local_users_of_other_organisations(gql, demo, tokens, session) -> None:
    stranger = await refused(
        gql,
        session,
        "createLocalUser",
        new_user(demo, "acme-motors"),
        tokens["shopmart-admin"],
        "Forbidden",
    )
    taken = await refused(
        gql,
        session,
        "createLocalUser",
        new_user(demo, email="analyst@acme-motors.example"),
        tokens["shopmart-admin"],
        "Conflict",
    )
    bad_email = await refused(
        gql,
        session,
        "createLocalUser",
        new_user(demo, email="not-an-address"),
        tokens["operator"],
        "ValidationError",
    )

    assert "own organisation" in stranger["message"]
    assert "another organisation" in taken["message"]
    assert field_codes(bad_email) == [(["email"], "INVALID_EMAIL")]


# --- trusted issuers -------------------------------------------------------------------------


def new_issuer(demo: dict[str, Any], org: str = "shopmart", **overrides: Any) -> dict[str, Any]:
    return {
        "organisationId": org_id(demo, org),
        "issuer": f"https://idp.{org}.example",
        **overrides,
    }


async def test_add_and_remove_trusted_issuers(gql, demo, tokens, session) -> None:
    head = await audit_head(session)
    by_url = await run(
        gql,
        "addTrustedIssuer",
        new_issuer(demo, jwksUrl="https://idp.shopmart.example/jwks.json"),
        tokens["shopmart-admin"],
    )
    jwk = public_jwks()["keys"][0]
    inline = await run(
        gql,
        "addTrustedIssuer",
        new_issuer(demo, issuer="https://sso.shopmart.example", jwks=jwk),
        tokens["operator"],
    )

    assert by_url["trustedIssuer"]["jwksUrl"] == "https://idp.shopmart.example/jwks.json"
    assert by_url["trustedIssuer"]["organisation"] == {"slug": "shopmart"}
    assert inline["trustedIssuer"]["jwks"] == {"keys": [jwk]}  # one JWK is a JWKS of one
    listed = await gql(ISSUERS, {}, token=tokens["shopmart-admin"])
    assert [e["node"]["issuer"] for e in listed["data"]["trustedIssuers"]["edges"]] == [
        "https://idp.shopmart.example",
        "https://sso.shopmart.example",
    ]

    removed = await run(
        gql,
        "removeTrustedIssuer",
        {"trustedIssuerId": by_url["trustedIssuer"]["id"]},
        tokens["shopmart-admin"],
    )
    assert removed == {
        "__typename": "RemoveTrustedIssuerPayload",
        "removedTrustedIssuerId": by_url["trustedIssuer"]["id"],
        "issuer": "https://idp.shopmart.example",
    }
    again = await refused(
        gql,
        session,
        "removeTrustedIssuer",
        {"trustedIssuerId": by_url["trustedIssuer"]["id"]},
        tokens["shopmart-admin"],
        "NotFound",
    )
    assert again["code"] == "NOT_FOUND"
    assert [a for a, _, _ in await audited_since(session, head)] == [
        "trusted_issuer.add",
        "trusted_issuer.add",
        "trusted_issuer.remove",
    ]


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({}, [(["jwks"], "REQUIRED")]),
        ({"jwksUrl": "https://idp.example/jwks", "jwks": "KEYS"}, [(["jwks"], "REQUIRED")]),
        ({"jwksUrl": "ftp://idp.example/jwks"}, [(["jwksUrl"], "INVALID_URL")]),
        ({"jwks": {"keys": []}}, [(["jwks"], "INVALID_JWKS")]),
        ({"jwks": "PRIVATE"}, [(["jwks"], "INVALID_JWKS")]),
        ({"issuer": " ", "jwksUrl": "https://idp.example/jwks"}, [(["issuer"], "BLANK")]),
    ],
    ids=["neither", "both", "bad-url", "no-keys", "private-key", "blank-issuer"],
)
async def test_issuer_keys_are_validated_as_the_cli_does(
    gql, demo, tokens, session, overrides: dict[str, Any], fields: Any
) -> None:
    overrides = dict(overrides)  # the parameters are shared by both databases' runs
    if overrides.get("jwks") == "KEYS":
        overrides["jwks"] = public_jwks()
    if overrides.get("jwks") == "PRIVATE":
        key = RSAKey.generate_key(2048, private=True)
        overrides["jwks"] = {"keys": [key.as_dict(private=True)]}

    error = await refused(
        gql,
        session,
        "addTrustedIssuer",
        new_issuer(demo, **overrides),
        tokens["operator"],
        "ValidationError",
    )

    assert field_codes(error) == fields


async def test_issuer_conflicts_and_other_organisations(gql, demo, tokens, session) -> None:
    first = await run(
        gql,
        "addTrustedIssuer",
        new_issuer(demo, jwksUrl="https://idp.shopmart.example/jwks"),
        tokens["operator"],
    )
    await refused(
        gql,
        session,
        "addTrustedIssuer",
        new_issuer(demo, jwksUrl="https://idp.shopmart.example/other"),
        tokens["operator"],
        "Conflict",
    )
    await refused(
        gql,
        session,
        "addTrustedIssuer",
        new_issuer(demo, "acme-motors", jwksUrl="https://idp.acme.example/jwks"),
        tokens["shopmart-admin"],
        "Forbidden",
    )
    await refused(
        gql,
        session,
        "removeTrustedIssuer",
        {"trustedIssuerId": first["trustedIssuer"]["id"]},
        tokens["acme-admin"],
        "Forbidden",
    )
    bad = await refused(
        gql,
        session,
        "removeTrustedIssuer",
        {"trustedIssuerId": org_id(demo, "shopmart")},
        tokens["operator"],
        "ValidationError",
    )
    assert field_codes(bad) == [(["trustedIssuerId"], "WRONG_ID_TYPE")]


# --- the lists -------------------------------------------------------------------------------


@pytest.fixture
async def many_clients(demo: dict[str, Any], sessions: Any) -> None:
    """Twelve clients of shopmart (each limited to two groups) and three of acme-motors."""
    from alliance.auth import service

    async with unit_of_work(sessions) as session:

        def create(sync: Any) -> None:
            for n in range(12):
                service.create_client(
                    sync,
                    None,
                    service.ClientData(
                        organisation="shopmart",
                        name=f"shopmart {n:02}",
                        scopes=["sync:read"],
                        working_groups=["automotive-parts", "luxury-goods"],
                    ),
                )
            for n in range(3):
                service.create_client(
                    sync,
                    None,
                    service.ClientData(
                        organisation="acme-motors", name=f"acme {n}", scopes=["sync:read"]
                    ),
                )

        await session.run_sync(create)


async def test_who_lists_which_clients(gql, demo, tokens, many_clients) -> None:
    everyone = await gql(CLIENTS, {"first": 100}, token=tokens["operator"])
    acme_by_operator = await gql(
        CLIENTS, {"org": org_id(demo, "acme-motors")}, token=tokens["operator"]
    )
    own = await gql(CLIENTS, {"first": 100}, token=tokens["shopmart-admin"])
    other = await gql(CLIENTS, {"org": org_id(demo, "acme-motors")}, token=tokens["shopmart-admin"])
    reader = await gql(CLIENTS, {}, token=tokens["shopmart-reader"])

    assert everyone["data"]["oauthClients"]["totalCount"] == 15
    assert acme_by_operator["data"]["oauthClients"]["totalCount"] == 3
    own_orgs = {e["node"]["organisation"]["slug"] for e in own["data"]["oauthClients"]["edges"]}
    assert own_orgs == {"shopmart"}
    assert own["data"]["oauthClients"]["totalCount"] == 12
    assert other["data"] is None
    assert [e["extensions"]["code"] for e in other["errors"]] == ["FORBIDDEN"]
    # (The denial's audit entry is checked on a real server below: in this rolled-back
    # transaction the query's own savepoint would take it with it.)
    assert [e["extensions"]["code"] for e in reader["errors"]] == ["FORBIDDEN"]


async def test_walking_the_client_list_by_cursor(gql, demo, tokens, many_clients) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = (await gql(CLIENTS, {"first": 5, "after": after}, token=tokens["shopmart-admin"]))[
            "data"
        ]["oauthClients"]
        seen += [e["node"]["clientId"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 12
    assert seen == sorted(seen)


async def test_the_client_list_costs_the_same_statements_for_2_rows_as_for_10(
    gql, engine, demo, tokens, many_clients
) -> None:
    counted = []
    for first in (2, 10):
        with recorded_statements(engine) as statements:
            result = await gql(CLIENTS, {"first": first}, token=tokens["operator"])
        edges = result["data"]["oauthClients"]["edges"]
        assert len(edges) == first
        assert all(
            [g["slug"] for g in e["node"]["workingGroups"] or []]
            in ([], ["automotive-parts", "luxury-goods"])
            for e in edges
        )
        counted.append(list(statements))
    few, many = counted

    def shape(statements: list[str]) -> list[str]:
        # Client ids are random, so the first two clients may name no working group, and
        # then no working groups are loaded at all: that statement is left out of the count.
        return [s for s in statements if "FROM working_groups" not in s]

    assert len(shape(many)) == len(shape(few)), "\n".join(many)
    # The page, its count, the organisations and the working groups: one each.
    assert sum("FROM oauth_clients" in s for s in many) == 2, "\n".join(many)
    assert sum("FROM working_groups" in s for s in few) <= 1, "\n".join(few)
    assert sum("FROM organisations" in s for s in many) == 1, "\n".join(many)
    assert sum("FROM working_groups" in s for s in many) == 1, "\n".join(many)


NODE = """
query ($id: ID!) {
  node(id: $id) {
    __typename
    ... on OAuthClient { clientId }
    ... on TrustedIssuer { issuer }
  }
}
"""


async def test_clients_and_issuers_by_global_id_for_who_manages_them(gql, demo, tokens) -> None:
    client = (await create_client(gql, demo, tokens["shopmart-admin"]))["client"]
    issuer = (
        await run(
            gql,
            "addTrustedIssuer",
            new_issuer(demo, jwksUrl="https://idp.shopmart.example/jwks"),
            tokens["shopmart-admin"],
        )
    )["trustedIssuer"]

    for token, visible in (("shopmart-admin", True), ("operator", True), ("acme-admin", False)):
        by_client = await gql(NODE, {"id": client["id"]}, token=tokens[token])
        by_issuer = await gql(NODE, {"id": issuer["id"]}, token=tokens[token])
        assert by_client["data"]["node"] == (
            {"__typename": "OAuthClient", "clientId": client["clientId"]} if visible else None
        ), token
        assert by_issuer["data"]["node"] == (
            {"__typename": "TrustedIssuer", "issuer": issuer["issuer"]} if visible else None
        ), token


@pytest.fixture
async def many_issuers(demo: dict[str, Any], sessions: Any) -> None:
    from alliance.auth import service

    async with unit_of_work(sessions) as session:

        def add(sync: Any) -> None:
            for n in range(12):
                org = ("shopmart", "acme-motors", "luxe-house")[n % 3]
                service.add_issuer(
                    sync,
                    None,
                    organisation=org,
                    issuer=f"https://idp-{n:02}.{org}.example",
                    jwks_uri=f"https://idp-{n:02}.{org}.example/jwks",
                )

        await session.run_sync(add)


async def test_the_issuer_list_costs_the_same_statements_for_2_rows_as_for_10(
    gql, engine, demo, tokens, many_issuers
) -> None:
    counted = []
    for first in (2, 10):
        with recorded_statements(engine) as statements:
            result = await gql(ISSUERS, {"first": first}, token=tokens["operator"])
        page = result["data"]["trustedIssuers"]
        assert len(page["edges"]) == first
        assert page["totalCount"] == 12
        counted.append(list(statements))
    few, many = counted
    assert len(many) == len(few), "\n".join(many)
    assert sum("FROM oauth_trusted_issuers" in s for s in many) == 2, "\n".join(many)
    assert sum("FROM organisations" in s for s in many) == 1, "\n".join(many)

    own = await gql(ISSUERS, {"first": 100}, token=tokens["acme-admin"])
    assert {e["node"]["organisation"]["slug"] for e in own["data"]["trustedIssuers"]["edges"]} == {
        "acme-motors"
    }
    assert own["data"]["trustedIssuers"]["totalCount"] == 4
    other = await gql(ISSUERS, {"org": org_id(demo, "shopmart")}, token=tokens["acme-admin"])
    assert [e["extensions"]["code"] for e in other["errors"]] == ["FORBIDDEN"]


# --- end to end: a client made over GraphQL gets a token over HTTP ----------------------------


def test_a_client_created_over_graphql_gets_a_token(served_alliance: Alliance) -> None:  # noqa: F811
    server = served_alliance
    operator_id, operator_secret = server.client("alliance-office", scopes=["admin"])
    shopmart = to_global_id("Organisation", server.ids()["shopmart"])
    with server.http() as http:
        issued = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": "admin"},
            auth=(operator_id, operator_secret or ""),
        )
        assert issued.status_code == 200, issued.text
        bearer = {"Authorization": f"Bearer {issued.json()['access_token']}"}

        def graphql(query: str, variables: dict[str, Any]) -> dict[str, Any]:
            response = http.post(
                "/graphql", json={"query": query, "variables": variables}, headers=bearer
            )
            assert response.status_code == 200, response.text
            return response.json()["data"]

        created = graphql(
            CREATE_CLIENT,
            {"input": {"organisationId": shopmart, "name": "e2e", "scopes": ["listings:check"]}},
        )["createOAuthClient"]
        client_id, secret = created["client"]["clientId"], created["clientSecret"]

        token = http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
        )
        assert token.status_code == 200, token.text
        claims = server.verify(token.json()["access_token"])
        assert (claims["client_id"], claims["org_slug"], claims["scope"]) == (
            client_id,
            "shopmart",
            "listings:check",
        )

        rotated = graphql(ROTATE_SECRET, {"input": {"clientId": client_id}})
        new_secret = rotated["rotateOAuthClientSecret"]["clientSecret"]
        stale = http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
        )
        assert stale.status_code == 401
        assert stale.json()["error"] == "invalid_client"

        graphql(DISABLE_CLIENT, {"input": {"clientId": client_id}})

        # An organisation admin of shopmart may not read acme-motors' clients: refused, audited.
        admin_id, admin_secret = server.client("shopmart", scopes=["org:admin"])
        org_admin = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(admin_id, admin_secret or ""),
        ).json()["access_token"]
        acme = to_global_id("Organisation", server.ids()["acme-motors"])
        denied = http.post(
            "/graphql",
            json={"query": CLIENTS, "variables": {"org": acme}},
            headers={"Authorization": f"Bearer {org_admin}"},
        ).json()
        assert [e["extensions"]["code"] for e in denied["errors"]] == ["FORBIDDEN"]
        entries = server.read(
            lambda s: s.execute(
                select(AuditEntry.outcome, AuditEntry.client_id).where(
                    AuditEntry.action == "graphql.oauthClients"
                )
            ).all()
        )
        assert [tuple(e) for e in entries] == [("denied", admin_id)]
        disabled = http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, new_secret)
        )
        assert disabled.status_code in (400, 401)
        assert disabled.json()["error"] == "invalid_client"
