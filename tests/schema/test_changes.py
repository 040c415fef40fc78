"""The change feed over GraphQL: the sharing matrix as each demo organisation's token sees it,
full pages however much of the log is hidden, filters, input errors and the statement count."""

from __future__ import annotations

from typing import Any

import pytest

from alliance.auth.tokens import TokenGrant, issue_access_token
from alliance.changelog.models import Operation
from alliance.changelog.service import record_change
from alliance.db import unit_of_work
from alliance.orgs import service
from alliance.orgs.models import OrganisationKind
from alliance.sharing import TLP, Distribution
from schema.relay import to_global_id
from tests.schema.test_query_counts import recorded_statements

MATRIX_KIND = "test.matrix"

CHANGES = """
query ($first: Int, $after: String, $kinds: [String!], $groups: [ID!]) {
  changes(first: $first, after: $after, kinds: $kinds, workingGroupIds: $groups) {
    totalCount
    edges { cursor node {
      seq kind objectId version operation occurredAt distribution tlp workingGroup { slug }
    } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def name(distribution: Distribution, tlp: TLP) -> str:
    return f"{distribution.value}/{tlp.value}"


def names(*distributions: Distribution, tlps: tuple[TLP, ...] = tuple(TLP)) -> set[str]:
    return {name(d, t) for d in distributions for t in tlps}


D = Distribution
# Written out, not derived: acme-motors owns every object and chairs automotive-parts, the
# objects' group; shopmart and city-police are members of it and alliance-office observes it;
# luxe-house sits only in luxury-goods; fresh-brand holds no seat at all; the peer is
# another instance, pulling with the federation scope.
EXPECTED: dict[str, set[str]] = {
    "acme-motors": names(D.ORGANISATION, D.WORKING_GROUP, D.ALLIANCE, D.FEDERATION),
    "shopmart": names(D.WORKING_GROUP, D.ALLIANCE, D.FEDERATION),
    "city-police": names(D.WORKING_GROUP, D.ALLIANCE, D.FEDERATION),
    "alliance-office": names(D.WORKING_GROUP, D.ALLIANCE, D.FEDERATION),
    "luxe-house": names(D.ALLIANCE, D.FEDERATION),
    "fresh-brand": names(D.ALLIANCE, D.FEDERATION),
    "peer": {"FEDERATION/CLEAR", "FEDERATION/GREEN"},
}


@pytest.fixture
async def alliance(demo: dict[str, Any], sessions: Any) -> dict[str, Any]:
    """The demo alliance, an organisation without seats, and a peer instance's organisation."""
    async with unit_of_work(sessions) as session:
        for slug, kind in (
            ("fresh-brand", OrganisationKind.BRAND),
            ("northern-alliance", OrganisationKind.ASSOCIATION),
        ):
            demo["orgs"][slug] = await service.create_organisation(
                session, None, service.OrganisationData(slug=slug, name=slug.title(), kind=kind)
            )
    return demo


@pytest.fixture
async def matrix(alliance: dict[str, Any], sessions: Any) -> None:
    """One change per distribution × TLP, owned by acme-motors, shared in automotive-parts."""
    async with unit_of_work(sessions) as session:
        for distribution in Distribution:
            for tlp in TLP:
                record_change(
                    session,
                    kind=MATRIX_KIND,
                    object_id=name(distribution, tlp),
                    version=1,
                    operation=Operation.CREATE,
                    distribution=distribution,
                    tlp=tlp,
                    owner_org_id=alliance["orgs"]["acme-motors"].id,
                    working_group_id=alliance["groups"]["automotive-parts"].id,
                )


def token_for(relation: str, alliance: dict[str, Any], issue_token: Any) -> str:
    if relation == "peer":
        return issue_token(alliance["orgs"]["northern-alliance"], "federation")
    return issue_token(alliance["orgs"][relation], "sync:read")


def object_ids(result: dict[str, Any]) -> list[str]:
    assert "errors" not in result, result
    return [edge["node"]["objectId"] for edge in result["data"]["changes"]["edges"]]


@pytest.mark.parametrize("relation", list(EXPECTED))
async def test_each_organisation_sees_exactly_its_share_of_the_matrix(
    gql, alliance, matrix, issue_token, relation: str
) -> None:
    token = token_for(relation, alliance, issue_token)

    result = await gql(CHANGES, {"first": 100, "kinds": [MATRIX_KIND]}, token=token)

    seen = object_ids(result)
    assert set(seen) == EXPECTED[relation]
    assert len(seen) == len(EXPECTED[relation])
    assert result["data"]["changes"]["totalCount"] == len(EXPECTED[relation])
    assert result["data"]["changes"]["pageInfo"]["hasNextPage"] is False


async def test_no_token_sees_nothing(gql, alliance, matrix) -> None:
    result = await gql(CHANGES, {"kinds": [MATRIX_KIND]})

    assert result["data"] is None
    assert [e["extensions"]["code"] for e in result["errors"]] == ["UNAUTHENTICATED"]


async def test_a_token_without_the_sync_scope_is_refused(
    gql, alliance, matrix, issue_token
) -> None:
    token = issue_token(alliance["orgs"]["acme-motors"], "indicators:read org:admin")

    result = await gql(CHANGES, {"kinds": [MATRIX_KIND]}, token=token)

    assert result["data"] is None
    assert [e["extensions"]["code"] for e in result["errors"]] == ["FORBIDDEN"]


async def test_a_change_reads_back_as_it_was_recorded(gql, alliance, matrix, issue_token) -> None:
    token = token_for("acme-motors", alliance, issue_token)

    result = await gql(CHANGES, {"first": 100, "kinds": [MATRIX_KIND]}, token=token)

    edges = result["data"]["changes"]["edges"]
    nodes = {edge["node"]["objectId"]: edge["node"] for edge in edges}
    amber = nodes["WORKING_GROUP/AMBER_STRICT"]
    assert amber["kind"] == MATRIX_KIND
    assert (amber["distribution"], amber["tlp"]) == ("WORKING_GROUP", "AMBER_STRICT")
    assert (amber["operation"], amber["version"]) == ("CREATE", 1)
    assert amber["workingGroup"] == {"slug": "automotive-parts"}
    assert amber["occurredAt"].endswith("+00:00")
    seqs = [int(edge["node"]["seq"]) for edge in edges]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 20


async def test_directory_changes_reach_every_member_and_no_peer(
    gql, alliance, matrix, issue_token
) -> None:
    """Organisations, groups and seats are recorded ALLIANCE/GREEN."""
    query = {"first": 100, "kinds": ["organisation"]}
    member = await gql(CHANGES, query, token=token_for("fresh-brand", alliance, issue_token))
    peer = await gql(CHANGES, query, token=token_for("peer", alliance, issue_token))

    assert member["data"]["changes"]["totalCount"] == 9  # the demo's seven and this test's two
    assert {
        (e["node"]["distribution"], e["node"]["tlp"]) for e in member["data"]["changes"]["edges"]
    } == {("ALLIANCE", "GREEN")}
    assert peer["data"]["changes"]["totalCount"] == 0
    assert object_ids(peer) == []


async def test_access_ends_with_the_seat(gql, alliance, matrix, issue_token, sessions) -> None:
    token = token_for("city-police", alliance, issue_token)
    async with unit_of_work(sessions) as session:
        await service.remove_working_group_member(
            session,
            None,
            working_group_id=alliance["groups"]["automotive-parts"].id,
            organisation_id=alliance["orgs"]["city-police"].id,
        )

    result = await gql(CHANGES, {"first": 100, "kinds": [MATRIX_KIND]}, token=token)

    # The group's objects are gone from its view; the feed says so with one REMOVE each.
    seen = [
        (e["node"]["objectId"], e["node"]["operation"]) for e in result["data"]["changes"]["edges"]
    ]
    assert sorted(seen) == sorted(
        [(n, "CREATE") for n in names(D.ALLIANCE, D.FEDERATION)]
        + [(n, "REMOVE") for n in names(D.WORKING_GROUP)]
    )


# --- pages ---------------------------------------------------------------------------------

CROWD_KIND = "test.crowd"
CROWD = 400


@pytest.fixture
async def crowd(alliance: dict[str, Any], sessions: Any) -> list[str]:
    """400 changes of which luxe-house may see one in twenty (and none of the last fourteen).

    Returns the object ids luxe-house may see, in log order."""
    acme = alliance["orgs"]["acme-motors"].id
    visible = []
    async with unit_of_work(sessions) as session:
        for n in range(CROWD):
            shared = n % 20 == 5
            record_change(
                session,
                kind=CROWD_KIND,
                object_id=f"crowd-{n:03}",
                version=1,
                operation=Operation.UPDATE,
                distribution=Distribution.ALLIANCE if shared else Distribution.ORGANISATION,
                tlp=TLP.AMBER,
                owner_org_id=acme,
            )
            if shared:
                visible.append(f"crowd-{n:03}")
    return visible


async def test_pages_stay_full_when_most_rows_are_invisible(
    gql, alliance, crowd, issue_token
) -> None:
    token = token_for("luxe-house", alliance, issue_token)
    assert len(crowd) == 20

    first = await gql(CHANGES, {"first": 10, "kinds": [CROWD_KIND]}, token=token)
    page = first["data"]["changes"]
    assert object_ids(first) == crowd[:10]
    assert page["totalCount"] == 20
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["hasPreviousPage"] is False

    second = await gql(
        CHANGES,
        {"first": 10, "after": page["pageInfo"]["endCursor"], "kinds": [CROWD_KIND]},
        token=token,
    )
    page = second["data"]["changes"]
    assert object_ids(second) == crowd[10:]
    assert page["totalCount"] == 20
    # Fourteen invisible rows follow the last visible one: there is no next page for luxe-house.
    assert page["pageInfo"]["hasNextPage"] is False
    assert page["pageInfo"]["hasPreviousPage"] is True

    third = await gql(
        CHANGES,
        {"first": 10, "after": page["pageInfo"]["endCursor"], "kinds": [CROWD_KIND]},
        token=token,
    )
    assert object_ids(third) == []
    assert third["data"]["changes"]["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("first", [1, 3, 7, 20])
async def test_walking_the_feed_by_cursor_visits_every_visible_change_once(
    gql, alliance, matrix, issue_token, first: int
) -> None:
    token = token_for("shopmart", alliance, issue_token)
    seen: list[str] = []
    after = None
    for _ in range(30):
        result = await gql(
            CHANGES, {"first": first, "after": after, "kinds": [MATRIX_KIND]}, token=token
        )
        seen += object_ids(result)
        info = result["data"]["changes"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert sorted(seen) == sorted(EXPECTED["shopmart"])


# --- filters and input errors ------------------------------------------------------------------


async def test_filter_by_working_group(gql, alliance, matrix, issue_token) -> None:
    token = token_for("shopmart", alliance, issue_token)
    automotive = to_global_id("WorkingGroup", alliance["groups"]["automotive-parts"].id)
    luxury = to_global_id("WorkingGroup", alliance["groups"]["luxury-goods"].id)

    in_automotive = await gql(
        CHANGES, {"first": 100, "kinds": [MATRIX_KIND], "groups": [automotive]}, token=token
    )
    in_luxury = await gql(
        CHANGES, {"first": 100, "kinds": [MATRIX_KIND], "groups": [luxury]}, token=token
    )
    directory_of_luxury = await gql(CHANGES, {"first": 100, "groups": [luxury]}, token=token)

    assert set(object_ids(in_automotive)) == EXPECTED["shopmart"]
    assert object_ids(in_luxury) == []
    # The group itself and its five seats.
    assert sorted(e["node"]["kind"] for e in directory_of_luxury["data"]["changes"]["edges"]) == [
        "membership"
    ] * 5 + ["working_group"]
    assert {
        e["node"]["workingGroup"]["slug"] for e in directory_of_luxury["data"]["changes"]["edges"]
    } == {"luxury-goods"}


async def test_empty_filters_do_not_filter(gql, alliance, matrix, issue_token) -> None:
    token = token_for("acme-motors", alliance, issue_token)

    everything = await gql(CHANGES, {"first": 1}, token=token)
    unfiltered = await gql(CHANGES, {"first": 1, "kinds": [], "groups": []}, token=token)

    assert everything["data"]["changes"]["totalCount"] > 20
    assert (
        unfiltered["data"]["changes"]["totalCount"] == everything["data"]["changes"]["totalCount"]
    )


@pytest.mark.parametrize(
    ("variables", "path", "code"),
    [
        ({"after": "not a cursor!"}, ["after"], "INVALID_CURSOR"),
        ({"after": "YzE6YWJj"}, ["after"], "INVALID_CURSOR"),  # c1:abc, not a sequence number
        ({"first": 101}, ["first"], "OUT_OF_RANGE"),
        ({"first": -1}, ["first"], "OUT_OF_RANGE"),
        ({"kinds": ["k"] * 51}, ["kinds"], "TOO_MANY"),
        ({"groups": ["bm90LWFuLWlk"]}, ["workingGroupIds", "0"], "INVALID_ID"),
    ],
)
async def test_bad_arguments_are_named(
    gql, alliance, issue_token, variables: dict[str, Any], path: list[str], code: str
) -> None:
    token = token_for("acme-motors", alliance, issue_token)

    result = await gql(CHANGES, variables, token=token)

    assert result["data"] is None
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert [(f["path"], f["code"]) for f in error["extensions"]["fields"]] == [(path, code)]


async def test_an_organisation_id_is_not_a_working_group_id(gql, alliance, issue_token) -> None:
    token = token_for("acme-motors", alliance, issue_token)
    group = to_global_id("WorkingGroup", alliance["groups"]["automotive-parts"].id)
    org = to_global_id("Organisation", alliance["orgs"]["acme-motors"].id)

    result = await gql(CHANGES, {"groups": [group, org]}, token=token)

    (error,) = result["errors"]
    assert [(f["path"], f["code"]) for f in error["extensions"]["fields"]] == [
        (["workingGroupIds", "1"], "WRONG_ID_TYPE")
    ]


# --- statements ---------------------------------------------------------------------------


async def test_statement_count_does_not_grow_with_the_page(
    gql, engine, alliance, issue_token, sessions
) -> None:
    """Changes spread over every group: the working groups load in one batch."""
    groups = list(alliance["groups"].values())
    async with unit_of_work(sessions) as session:
        for n in range(30):
            record_change(
                session,
                kind="test.count",
                object_id=f"count-{n}",
                version=1,
                operation=Operation.CREATE,
                distribution=Distribution.ALLIANCE,
                tlp=TLP.GREEN,
                owner_org_id=alliance["orgs"]["acme-motors"].id,
                working_group_id=groups[n % len(groups)].id,
            )
    token = token_for("alliance-office", alliance, issue_token)

    counted = []
    for first in (2, 10):
        with recorded_statements(engine) as statements:
            result = await gql(CHANGES, {"first": first, "kinds": ["test.count"]}, token=token)
        assert len(object_ids(result)) == first
        assert len(
            {e["node"]["workingGroup"]["slug"] for e in result["data"]["changes"]["edges"]}
        ) == min(first, 3)
        counted.append(list(statements))

    few, many = counted
    assert len(many) == len(few), "\n".join(many)

    # Whatever else a request costs (token checks, savepoints), the feed itself reads the
    # caller's seats once, the page and its count, and the page's working groups in one batch.
    def reading(table: str) -> int:
        return sum(f"FROM {table} " in s or s.rstrip().endswith(f"FROM {table}") for s in many)

    assert reading("memberships") == 1, "\n".join(many)
    assert reading("change_log") == 2, "\n".join(many)
    assert reading("working_groups") == 1, "\n".join(many)


async def test_a_token_limited_to_other_groups_loses_the_groups_share(
    gql, app, settings, alliance, matrix
) -> None:
    """shopmart sits in automotive-parts, but this token of it may act in luxury-goods only."""
    shopmart = alliance["orgs"]["shopmart"]
    grant = TokenGrant(
        subject="test:shopmart-limited",
        client_id="tests",
        organisation_id=shopmart.id,
        organisation_slug=shopmart.slug,
        scopes=("sync:read",),
        working_group_ids=(alliance["groups"]["luxury-goods"].id,),
    )
    token, _ = issue_access_token(
        app.state.keys,
        grant,
        issuer=settings.base_url,
        audience=settings.token_audience,
        ttl_seconds=600,
    )

    result = await gql(CHANGES, {"first": 100, "kinds": [MATRIX_KIND]}, token=token)

    assert set(object_ids(result)) == names(D.ALLIANCE, D.FEDERATION)
