"""The audit log over GraphQL: who reads what, Relay paging, the caller on every write, denials
audited although their request rolls back, and a constant number of SQL statements per page."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from alliance import migrate
from alliance.audit import service as audit
from alliance.audit.chain import entry_hash
from alliance.audit.models import AuditEntry
from alliance.auth.tokens import TokenGrant, issue_access_token
from alliance.config import Settings
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.demo import seed
from alliance.orgs import repository as orgs_repo
from schema.audit.denials import DenialLog
from schema.relay import to_global_id
from tests.conftest import BACKENDS, GraphQLClient, RecordingSender, create_fresh_database
from tests.schema.test_query_counts import MAX_STATEMENTS, run_counted

AUDIT_LOG = """
query ($first: Int, $after: String, $organisationId: ID, $actions: [String!]) {
  auditLog(first: $first, after: $after, organisationId: $organisationId, actions: $actions) {
    totalCount
    edges { cursor node {
      seq action outcome actor clientId personId targetKind targetId requestId detail
      prevHash entryHash occurredAt
      organisation { slug }
    } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""

CREATE_ORGANISATION = """
mutation ($input: CreateOrganisationInput!) {
  createOrganisation(input: $input) {
    __typename
    ... on Error { code message }
    ... on CreateOrganisationPayload { organisation { id slug } }
  }
}
"""

ADD_MEMBER = """
mutation ($input: WorkingGroupRoleInput!) {
  addWorkingGroupMember(input: $input) {
    __typename
    ... on Error { code message }
  }
}
"""

# Per organisation, the entries the tests record beside whatever the demo wrote.
RECORDED = {"acme-motors": 3, "luxe-house": 2, "shopmart": 1}


async def record_entries(sessions: Any, orgs: dict[str, Any], per_org: dict[str, int]) -> None:
    async with unit_of_work(sessions) as s:
        for slug, n in per_org.items():
            for i in range(n):
                audit.record(
                    s,
                    action="test.recorded" if i % 2 == 0 else "test.other",
                    actor=f"client:c-{slug}@{slug}",
                    client_id=f"c-{slug}",
                    organisation_id=orgs[slug].id,
                    target_kind="test",
                    target_id=f"{slug}-{i}",
                )


async def all_entries(session: Any) -> list[AuditEntry]:
    return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())))


def nodes(result: dict[str, Any]) -> list[dict[str, Any]]:
    assert "errors" not in result, result
    return [e["node"] for e in result["data"]["auditLog"]["edges"]]


@pytest.fixture
async def recorded(demo: dict[str, Any], sessions: Any) -> dict[str, Any]:
    await record_entries(sessions, demo["orgs"], RECORDED)
    return demo


# --- who reads what -------------------------------------------------------------------------


async def test_an_operator_reads_every_entry_newest_first(gql, recorded, issue_token, session):
    token = issue_token(recorded["orgs"]["alliance-office"], "admin")
    expected = await all_entries(session)

    result = await gql(AUDIT_LOG, {"first": 100}, token=token)

    got = nodes(result)
    assert result["data"]["auditLog"]["totalCount"] == len(expected) > sum(RECORDED.values())
    assert [n["seq"] for n in got] == [str(e.seq) for e in expected]
    newest = expected[0]
    assert got[0] == {
        "seq": str(newest.seq),
        "action": newest.action,
        "outcome": "ALLOWED",
        "actor": newest.actor,
        "clientId": newest.client_id,
        "personId": None,
        "targetKind": newest.target_kind,
        "targetId": newest.target_id,
        "requestId": None,
        "detail": {},
        "prevHash": newest.prev_hash,
        "entryHash": entry_hash(newest),
        "occurredAt": newest.occurred_at.isoformat(),
        "organisation": {"slug": "shopmart"},
    }
    # The demo's own writes are audited too (by the local operator: no organisation).
    assert any(n["action"] == "organisation.create" and n["organisation"] is None for n in got)


async def test_an_operator_filters_by_organisation_and_action(gql, recorded, issue_token):
    token = issue_token(recorded["orgs"]["alliance-office"], "admin")
    acme = to_global_id("Organisation", recorded["orgs"]["acme-motors"].id)

    by_org = await gql(AUDIT_LOG, {"organisationId": acme}, token=token)
    by_both = await gql(
        AUDIT_LOG, {"organisationId": acme, "actions": ["test.recorded"]}, token=token
    )
    by_action = await gql(AUDIT_LOG, {"actions": ["test.other", "nothing.like.it"]}, token=token)

    assert [n["targetId"] for n in nodes(by_org)] == [
        "acme-motors-2",
        "acme-motors-1",
        "acme-motors-0",
    ]
    assert [n["targetId"] for n in nodes(by_both)] == ["acme-motors-2", "acme-motors-0"]
    assert by_both["data"]["auditLog"]["totalCount"] == 2
    assert {n["targetId"] for n in nodes(by_action)} == {"acme-motors-1", "luxe-house-1"}


async def test_an_organisation_admin_reads_its_own_organisation_only(gql, recorded, issue_token):
    acme = recorded["orgs"]["acme-motors"]
    token = issue_token(acme, "org:admin")

    mine = await gql(AUDIT_LOG, {"first": 100}, token=token)
    explicit = await gql(
        AUDIT_LOG, {"organisationId": to_global_id("Organisation", acme.id)}, token=token
    )

    assert {n["organisation"]["slug"] for n in nodes(mine)} == {"acme-motors"}
    assert mine["data"]["auditLog"]["totalCount"] == RECORDED["acme-motors"]
    assert nodes(explicit) == nodes(mine)


async def test_an_organisation_admin_may_not_ask_for_another_organisation(
    gql, recorded, issue_token
):
    token = issue_token(recorded["orgs"]["acme-motors"], "org:admin")
    luxe = to_global_id("Organisation", recorded["orgs"]["luxe-house"].id)

    result = await gql(AUDIT_LOG, {"organisationId": luxe}, token=token)

    assert result["data"] is None
    [error] = result["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "their own organisation" in error["message"]


@pytest.mark.parametrize("scopes", ["indicators:read guides:read", "indicators:write sync:read"])
async def test_a_plain_member_is_refused(gql, recorded, issue_token, scopes: str):
    token = issue_token(recorded["orgs"]["acme-motors"], scopes)

    result = await gql(AUDIT_LOG, {}, token=token)

    assert result["data"] is None
    [error] = result["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "org:admin, admin" in error["message"]


async def test_an_anonymous_caller_is_refused(gql, recorded):
    result = await gql(AUDIT_LOG, {})
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- paging and input -----------------------------------------------------------------------


async def test_pages_follow_one_another_by_cursor(gql, recorded, issue_token, session):
    token = issue_token(recorded["orgs"]["alliance-office"], "admin")
    expected = [str(e.seq) for e in await all_entries(session)]

    seen: list[str] = []
    after = None
    while True:
        page = (await gql(AUDIT_LOG, {"first": 4, "after": after}, token=token))["data"]
        connection = page["auditLog"]
        seen += [e["node"]["seq"] for e in connection["edges"]]
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == expected
    assert len(seen) > 8


@pytest.mark.parametrize(
    ("variables", "field", "code"),
    [
        ({"first": 101}, "first", "OUT_OF_RANGE"),
        ({"after": "not-a-cursor"}, "after", "INVALID_CURSOR"),
        ({"organisationId": "bm9wZQ"}, "organisationId", "INVALID_ID"),
        ({"actions": [f"a{n}" for n in range(21)]}, "actions", "TOO_MANY"),
        ({"actions": ["x" * 101]}, "actions", "INVALID_ACTION"),
    ],
)
async def test_bad_input_is_a_typed_error(gql, recorded, issue_token, variables, field, code):
    token = issue_token(recorded["orgs"]["alliance-office"], "admin")
    result = await gql(AUDIT_LOG, variables, token=token)
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert [(f["path"], f["code"]) for f in error["extensions"]["fields"]] == [([field], code)]


# --- writes carry their caller --------------------------------------------------------------


async def test_a_write_over_graphql_is_audited_with_its_caller(client, demo, issue_token, session):
    office = demo["orgs"]["alliance-office"]
    before = int(await session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0))))

    response = await client.post(
        "/graphql",
        json={
            "query": CREATE_ORGANISATION,
            "variables": {"input": {"slug": "audited", "name": "Audited", "kind": "BRAND"}},
        },
        headers={
            "Authorization": f"Bearer {issue_token(office, 'admin')}",
            "X-Request-ID": "req-00000042",
        },
    )

    assert (
        response.json()["data"]["createOrganisation"]["__typename"] == "CreateOrganisationPayload"
    )
    [entry] = await session.scalars(select(AuditEntry).where(AuditEntry.seq > before))
    created = await orgs_repo.organisation_by_slug(session, "audited")
    assert (entry.action, entry.outcome, entry.target_kind, entry.target_id) == (
        "organisation.create",
        "allowed",
        "organisation",
        str(created.id),
    )
    assert (entry.organisation_id, entry.client_id, entry.person_id) == (office.id, "tests", None)
    assert (entry.actor, entry.request_id) == ("client:tests@alliance-office", "req-00000042")


# --- no N+1 ---------------------------------------------------------------------------------

COUNTED = """
query ($first: Int!) {
  auditLog(first: $first) {
    totalCount
    edges { node { seq action outcome actor organisation { slug name } } }
  }
}
"""


async def test_statement_count_does_not_grow_with_the_page(
    gql, engine, demo, sessions, issue_token
):
    await record_entries(
        sessions, demo["orgs"], {slug: 2 for slug in sorted(demo["orgs"])}
    )  # 14 entries, two per organisation, newest first alternating organisations
    token = issue_token(demo["orgs"]["alliance-office"], "admin")

    small, few = await run_counted(gql, engine, COUNTED, 2, token)
    large, many = await run_counted(gql, engine, COUNTED, 10, token)

    assert len(small["auditLog"]["edges"]) == 2
    assert len(large["auditLog"]["edges"]) == 10
    assert len({e["node"]["organisation"]["slug"] for e in large["auditLog"]["edges"]}) == 5
    assert len(many) == len(few), "\n".join(many)
    assert len(many) <= MAX_STATEMENTS, "\n".join(many)


# --- denials, against a database of its own --------------------------------------------------
# A denial is written in a transaction of its own while the request's is still open. The
# per-test fixtures run every session on one connection, where that transaction would nest
# inside the request's and vanish with its rollback; so these tests use real transactions.


@dataclass
class Committed:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    orgs: dict[str, Any]
    groups: dict[str, Any]


@pytest.fixture(scope="module", params=BACKENDS)
async def committed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Committed]:
    url, drop = await create_fresh_database(request.param, tmp_path_factory.mktemp("audit"))
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    async with unit_of_work(sessions) as s:
        await seed(s)
    async with sessions() as s:
        orgs = {
            o.slug: o
            for o in (
                await orgs_repo.page_organisations(s, kinds=None, after=None, limit=100)
            ).items
        }
        groups = {
            g.slug: g for g in (await orgs_repo.page_working_groups(s, after=None, limit=100)).items
        }
    try:
        yield Committed(engine, sessions, orgs, groups)
    finally:
        await engine.dispose()
        if drop:
            await drop()


@dataclass
class CommittedApi:
    gql: GraphQLClient
    token: Any
    sessions: async_sessionmaker[AsyncSession]
    orgs: dict[str, Any]
    groups: dict[str, Any]

    async def entries_since(self, seq: int) -> list[AuditEntry]:
        async with self.sessions() as s:
            return list(
                await s.scalars(
                    select(AuditEntry).where(AuditEntry.seq > seq).order_by(AuditEntry.seq)
                )
            )

    async def head(self) -> int:
        async with self.sessions() as s:
            return int(await s.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0))))


@pytest.fixture
async def api(committed: Committed, settings: Settings) -> AsyncIterator[CommittedApi]:
    from alliance.app import create_app

    app = create_app(settings, sessions=committed.sessions, job_sender=RecordingSender())
    async with app.router.lifespan_context(app):

        def token(org: Any, scopes: str) -> str:
            grant = TokenGrant(
                subject=f"test:{org.slug}",
                client_id=f"client-of-{org.slug}",
                organisation_id=org.id,
                organisation_slug=org.slug,
                scopes=tuple(scopes.split()),
            )
            issued, _ = issue_access_token(
                app.state.keys,
                grant,
                issuer=settings.base_url,
                audience=settings.token_audience,
                ttl_seconds=600,
            )
            return issued

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://alliance.test") as c:
            yield CommittedApi(
                GraphQLClient(c), token, committed.sessions, committed.orgs, committed.groups
            )


async def test_a_refused_read_leaves_one_denied_entry(api: CommittedApi) -> None:
    acme = api.orgs["acme-motors"]
    before = await api.head()

    result = await api.gql(AUDIT_LOG, {}, token=api.token(acme, "indicators:read"))

    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    [entry] = await api.entries_since(before)
    assert (entry.action, entry.outcome) == ("graphql.auditLog", "denied")
    assert (entry.organisation_id, entry.client_id) == (acme.id, "client-of-acme-motors")
    assert entry.actor == "client:client-of-acme-motors@acme-motors"
    assert entry.detail["code"] == "FORBIDDEN"
    assert entry.request_id


async def test_an_anonymous_refusal_leaves_one_denied_entry(api: CommittedApi) -> None:
    before = await api.head()

    result = await api.gql(AUDIT_LOG, {})

    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    [entry] = await api.entries_since(before)
    assert (entry.action, entry.outcome, entry.actor, entry.organisation_id) == (
        "graphql.auditLog",
        "denied",
        None,
        None,
    )
    assert entry.detail == {"code": "UNAUTHENTICATED", "reason": "authentication required"}


async def test_a_service_refusal_of_a_read_leaves_one_denied_entry(api: CommittedApi) -> None:
    luxe = to_global_id("Organisation", api.orgs["luxe-house"].id)
    before = await api.head()

    result = await api.gql(
        AUDIT_LOG, {"organisationId": luxe}, token=api.token(api.orgs["acme-motors"], "org:admin")
    )

    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    [entry] = await api.entries_since(before)
    assert (entry.action, entry.outcome, entry.organisation_id) == (
        "graphql.auditLog",
        "denied",
        api.orgs["acme-motors"].id,
    )


async def test_a_mutation_refused_by_its_declared_access_leaves_one_denied_entry(
    api: CommittedApi,
) -> None:
    before = await api.head()

    result = await api.gql(
        CREATE_ORGANISATION,
        {"input": {"slug": "sneaky", "name": "Sneaky", "kind": "BRAND"}},
        token=api.token(api.orgs["acme-motors"], "org:admin"),
    )

    assert result["data"]["createOrganisation"]["code"] == "FORBIDDEN"
    [entry] = await api.entries_since(before)
    assert (entry.action, entry.outcome, entry.detail["code"]) == (
        "graphql.createOrganisation",
        "denied",
        "FORBIDDEN",
    )
    async with api.sessions() as s:
        assert await orgs_repo.organisation_by_slug(s, "sneaky") is None


async def test_a_mutation_refused_by_its_service_leaves_one_denied_entry(api: CommittedApi) -> None:
    """acme-motors chairs automotive-parts only: its admin may not seat anyone in luxury-goods.
    The service raises ``Forbidden``; the write is rolled back, the denial kept."""
    before = await api.head()

    result = await api.gql(
        ADD_MEMBER,
        {
            "input": {
                "workingGroupId": to_global_id("WorkingGroup", api.groups["luxury-goods"].id),
                "organisationId": to_global_id("Organisation", api.orgs["acme-motors"].id),
                "role": "MEMBER",
            }
        },
        token=api.token(api.orgs["acme-motors"], "org:admin"),
    )

    assert result["data"]["addWorkingGroupMember"]["code"] == "FORBIDDEN", result
    [entry] = await api.entries_since(before)
    assert (entry.action, entry.outcome, entry.organisation_id) == (
        "graphql.addWorkingGroupMember",
        "denied",
        api.orgs["acme-motors"].id,
    )
    assert "luxury-goods" in entry.detail["reason"]


async def test_an_allowed_mutation_leaves_one_allowed_entry_per_change(api: CommittedApi) -> None:
    office = api.orgs["alliance-office"]
    before = await api.head()

    result = await api.gql(
        CREATE_ORGANISATION,
        {"input": {"slug": f"new-{uuid.uuid4().hex[:8]}", "name": "New", "kind": "BRAND"}},
        token=api.token(office, "admin"),
    )

    assert result["data"]["createOrganisation"]["__typename"] == "CreateOrganisationPayload"
    [entry] = await api.entries_since(before)
    assert (entry.action, entry.outcome, entry.organisation_id) == (
        "organisation.create",
        "allowed",
        office.id,
    )
    async with api.sessions() as s:
        report = await audit.verify_chain(s)
    assert report.ok, report.broken


async def test_refusals_of_one_document_are_written_once(api: CommittedApi) -> None:
    before = await api.head()
    aliased = "{ a: auditLog { totalCount } b: auditLog { totalCount } c: auditLog { totalCount } }"

    result = await api.gql(aliased, token=api.token(api.orgs["acme-motors"], "guides:read"))

    assert {e["extensions"]["code"] for e in result["errors"]} == {"FORBIDDEN"}
    [entry] = await api.entries_since(before)
    assert (entry.action, entry.outcome) == ("graphql.auditLog", "denied")


def test_the_denial_log_counts_repeated_refusals() -> None:
    log = DenialLog()
    for _ in range(3):
        log.add("auditLog", "FORBIDDEN", "no")
    log.add("auditLog", "UNAUTHENTICATED", "no token")
    log.add("createOrganisation", "FORBIDDEN", "no")

    first, second, third = log.drain()

    assert (first.action, first.outcome, first.detail) == (
        "graphql.auditLog",
        "denied",
        {"code": "FORBIDDEN", "reason": "no", "occurrences": 3},
    )
    assert second.detail == {"code": "UNAUTHENTICATED", "reason": "no token"}
    assert third.action == "graphql.createOrganisation"
    assert log.drain() == [], "drained once"
