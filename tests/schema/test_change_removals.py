"""Removal entries in the change feed: when visibility is lowered or a seat ends, exactly the
organisations that lost sight of an object get a REMOVE entry for it, telling nothing of the
object's new visibility; everyone else sees only what they saw before. Full pages, right counts."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from alliance.changelog.models import ChangeLogEntry, Operation
from alliance.changelog.service import record_change
from alliance.db import unit_of_work
from alliance.orgs import service
from alliance.orgs.models import OrganisationKind
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import Visibility
from schema.relay import to_global_id
from tests.schema.test_changes import token_for
from tests.schema.test_query_counts import recorded_statements

KIND = "test.removal"
D = Distribution

FEED = """
query ($first: Int, $after: String, $kinds: [String!], $groups: [ID!]) {
  changes(first: $first, after: $after, kinds: $kinds, workingGroupIds: $groups) {
    totalCount
    edges { node { seq kind objectId version operation reason distribution tlp workingGroup { slug } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

REMOVE_MEMBER = """
mutation ($input: WorkingGroupSeatInput!) {
  removeWorkingGroupMember(input: $input) { __typename }
}
"""

RELATIONS = (
    "acme-motors",  # owner, chairs automotive-parts
    "shopmart",  # sits in all three groups
    "city-police",  # member of automotive-parts and luxury-goods, observes consumer-electronics
    "alliance-office",  # observes all three
    "luxe-house",  # chairs luxury-goods only
    "fresh-brand",  # no seat
    "peer",  # another instance (federation scope)
)
EVERY_MEMBER = set(RELATIONS) - {"peer"}


def vis(alliance: dict[str, Any], distribution: Distribution, tlp: TLP, group: str) -> Visibility:
    return Visibility(
        alliance["orgs"]["acme-motors"].id, alliance["groups"][group].id, distribution, tlp
    )


# (before, after, who saw it before, who sees it after), written out by hand.
LOWERINGS = {
    "alliance-to-group": (
        (D.ALLIANCE, TLP.GREEN, "automotive-parts"),
        (D.WORKING_GROUP, TLP.GREEN, "automotive-parts"),
        EVERY_MEMBER,
        {"acme-motors", "shopmart", "city-police", "alliance-office"},
    ),
    "group-to-organisation": (
        (D.WORKING_GROUP, TLP.AMBER, "automotive-parts"),
        (D.ORGANISATION, TLP.AMBER, "automotive-parts"),
        {"acme-motors", "shopmart", "city-police", "alliance-office"},
        {"acme-motors"},
    ),
    "alliance-to-another-group": (
        (D.ALLIANCE, TLP.AMBER, "automotive-parts"),
        (D.WORKING_GROUP, TLP.AMBER, "luxury-goods"),
        EVERY_MEMBER,
        {"acme-motors", "shopmart", "city-police", "alliance-office", "luxe-house"},
    ),
    "federation-to-alliance": (
        (D.FEDERATION, TLP.GREEN, "automotive-parts"),
        (D.ALLIANCE, TLP.GREEN, "automotive-parts"),
        set(RELATIONS),
        EVERY_MEMBER,
    ),
    "federation-green-to-amber": (
        (D.FEDERATION, TLP.GREEN, "automotive-parts"),
        (D.FEDERATION, TLP.AMBER, "automotive-parts"),
        set(RELATIONS),
        EVERY_MEMBER,
    ),
    "federation-to-organisation": (
        (D.FEDERATION, TLP.CLEAR, "automotive-parts"),
        (D.ORGANISATION, TLP.CLEAR, "automotive-parts"),
        set(RELATIONS),
        {"acme-motors"},
    ),
    "widened": (
        (D.WORKING_GROUP, TLP.GREEN, "automotive-parts"),
        (D.FEDERATION, TLP.GREEN, "automotive-parts"),
        {"acme-motors", "shopmart", "city-police", "alliance-office"},
        set(RELATIONS),
    ),
}


async def feed(gql: Any, token: str, **variables: Any) -> dict[str, Any]:
    result = await gql(FEED, {"first": 100, "kinds": [KIND], **variables}, token=token)
    assert "errors" not in result, result
    return result["data"]["changes"]


def seen(page: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [
        (e["node"]["objectId"], e["node"]["operation"], e["node"]["version"]) for e in page["edges"]
    ]


@pytest.fixture
async def alliance(demo: dict[str, Any], sessions: Any) -> dict[str, Any]:
    """The demo alliance, an organisation without seats, and a peer instance's organisation
    (as in ``test_changes``, whose ``token_for`` this reuses)."""
    async with unit_of_work(sessions) as session:
        for slug, kind in (
            ("fresh-brand", OrganisationKind.BRAND),
            ("northern-alliance", OrganisationKind.ASSOCIATION),
        ):
            demo["orgs"][slug] = await service.create_organisation(
                session, None, service.OrganisationData(slug=slug, name=slug.title(), kind=kind)
            )
    return demo


@pytest.mark.parametrize("case", list(LOWERINGS))
async def test_lowering_visibility_tells_exactly_who_lost_it(
    gql, alliance, issue_token, sessions, case: str
) -> None:
    before, after, saw, sees = LOWERINGS[case]
    previous = vis(alliance, *before)
    current = vis(alliance, *after)
    async with unit_of_work(sessions) as session:
        for version, (v, prev, op) in enumerate(
            [(previous, None, Operation.CREATE), (current, previous, Operation.UPDATE)], start=1
        ):
            record_change(
                session,
                kind=KIND,
                object_id=case,
                version=version,
                operation=op,
                distribution=v.distribution,
                tlp=v.tlp,
                owner_org_id=v.owner_org_id,
                working_group_id=v.working_group_id,
                previous=prev,
            )

    for relation in RELATIONS:
        page = await feed(gql, token_for(relation, alliance, issue_token))

        expected = [(case, "CREATE", 1)] if relation in saw else []
        if relation in sees:
            expected.append((case, "UPDATE", 2))
        elif relation in saw:
            expected.append((case, "REMOVE", 2))
        assert seen(page) == expected, relation
        assert page["totalCount"] == len(expected), relation
        for edge in page["edges"]:
            node = edge["node"]
            if node["operation"] == "REMOVE":
                assert node["reason"] == "VISIBILITY_LOWERED", relation
                # Nothing of the new visibility reaches who lost access.
                assert (node["distribution"], node["tlp"], node["workingGroup"]) == (
                    None,
                    None,
                    None,
                ), relation
            elif node["operation"] == "UPDATE":
                assert (node["distribution"], node["tlp"]) == (after[0], after[1])


async def test_a_widening_keeps_no_previous_visibility(alliance, sessions) -> None:
    previous = vis(alliance, D.WORKING_GROUP, TLP.GREEN, "automotive-parts")
    async with unit_of_work(sessions) as session:
        record_change(
            session,
            kind=KIND,
            object_id="widened",
            version=2,
            operation=Operation.UPDATE,
            distribution=D.ALLIANCE,
            tlp=TLP.GREEN,
            owner_org_id=previous.owner_org_id,
            working_group_id=previous.working_group_id,
            previous=previous,
        )
    async with sessions() as session:
        row = (
            await session.scalars(select(ChangeLogEntry).where(ChangeLogEntry.kind == KIND))
        ).one()
    assert (row.prev_distribution, row.prev_tlp, row.prev_working_group_id) == (None, None, None)


async def test_a_group_filter_never_tells_where_a_lost_object_went(
    gql, alliance, issue_token, sessions
) -> None:
    """Moved from ALLIANCE in automotive-parts to WORKING_GROUP in luxury-goods: fresh-brand
    reads the removal under automotive-parts, and nothing under luxury-goods."""
    previous = vis(alliance, D.ALLIANCE, TLP.GREEN, "automotive-parts")
    current = vis(alliance, D.WORKING_GROUP, TLP.GREEN, "luxury-goods")
    async with unit_of_work(sessions) as session:
        for version, (v, prev) in enumerate([(previous, None), (current, previous)], start=1):
            record_change(
                session,
                kind=KIND,
                object_id="moved",
                version=version,
                operation=Operation.UPDATE,
                distribution=v.distribution,
                tlp=v.tlp,
                owner_org_id=v.owner_org_id,
                working_group_id=v.working_group_id,
                previous=prev,
            )
    groups = {g: to_global_id("WorkingGroup", alliance["groups"][g].id) for g in alliance["groups"]}

    async def seen_in(relation: str, group: str) -> list[tuple[str, str, int]]:
        token = token_for(relation, alliance, issue_token)
        return seen(await feed(gql, token, groups=[groups[group]]))

    assert await seen_in("fresh-brand", "automotive-parts") == [
        ("moved", "UPDATE", 1),
        ("moved", "REMOVE", 2),
    ]
    assert await seen_in("fresh-brand", "luxury-goods") == []
    assert await seen_in("luxe-house", "luxury-goods") == [("moved", "UPDATE", 2)]
    assert await seen_in("luxe-house", "automotive-parts") == [("moved", "UPDATE", 1)]


# --- a seat ends ---------------------------------------------------------------------------

# (object, distribution, group, owner): what city-police may see in automotive-parts and beyond.
SEAT_OBJECTS = [
    ("wg-amber", D.WORKING_GROUP, "automotive-parts", "acme-motors"),
    ("wg-red", D.WORKING_GROUP, "automotive-parts", "acme-motors"),
    ("alliance", D.ALLIANCE, "automotive-parts", "acme-motors"),
    ("federation", D.FEDERATION, "automotive-parts", "acme-motors"),
    ("own", D.WORKING_GROUP, "automotive-parts", "city-police"),
    ("other-group", D.WORKING_GROUP, "luxury-goods", "acme-motors"),
    ("organisation", D.ORGANISATION, "automotive-parts", "acme-motors"),
]
# Objects whose history ends elsewhere: deleted, widened, and lowered into the group.
LOST = {"wg-amber", "wg-red", "lowered-into-group"}


@pytest.fixture
async def group_objects(alliance: dict[str, Any], sessions: Any) -> None:
    orgs, groups = alliance["orgs"], alliance["groups"]

    def change(session: Any, object_id: str, version: int, op: Operation, d, group, owner) -> None:  # type: ignore[no-untyped-def]
        record_change(
            session,
            kind=KIND,
            object_id=object_id,
            version=version,
            operation=op,
            distribution=d,
            tlp=TLP.AMBER,
            owner_org_id=orgs[owner].id,
            working_group_id=groups[group].id,
        )

    async with unit_of_work(sessions) as session:
        for object_id, d, group, owner in SEAT_OBJECTS:
            change(session, object_id, 1, Operation.CREATE, d, group, owner)
        auto = "automotive-parts"
        change(session, "deleted", 1, Operation.CREATE, D.WORKING_GROUP, auto, "acme-motors")
        change(session, "deleted", 2, Operation.DELETE, D.WORKING_GROUP, auto, "acme-motors")
        change(session, "widened", 1, Operation.CREATE, D.WORKING_GROUP, auto, "acme-motors")
        change(session, "widened", 2, Operation.UPDATE, D.ALLIANCE, auto, "acme-motors")
        change(session, "lowered-into-group", 1, Operation.CREATE, D.ALLIANCE, auto, "acme-motors")
        change(
            session, "lowered-into-group", 2, Operation.UPDATE, D.WORKING_GROUP, auto, "acme-motors"
        )


async def remove_city_police(gql: Any, alliance: dict[str, Any], issue_token: Any) -> None:
    seat = {
        "workingGroupId": to_global_id("WorkingGroup", alliance["groups"]["automotive-parts"].id),
        "organisationId": to_global_id("Organisation", alliance["orgs"]["city-police"].id),
    }
    token = issue_token(alliance["orgs"]["alliance-office"], "admin")
    result = await gql(REMOVE_MEMBER, {"input": seat}, token=token)
    assert result["data"]["removeWorkingGroupMember"]["__typename"] == (
        "RemoveWorkingGroupMemberPayload"
    ), result


async def test_the_ex_member_gets_one_removal_per_object_it_lost(
    gql, engine, alliance, group_objects, issue_token
) -> None:
    token = token_for("city-police", alliance, issue_token)
    before = seen(await feed(gql, token))
    others_before = {
        r: seen(await feed(gql, token_for(r, alliance, issue_token)))
        for r in RELATIONS
        if r != "city-police"
    }

    with recorded_statements(engine) as statements:
        await remove_city_police(gql, alliance, issue_token)

    after = await feed(gql, token)
    removals = [s for s in seen(after) if s[1] == "REMOVE"]
    assert sorted(o for o, _, _ in removals) == sorted(LOST)
    assert {(o, v) for o, _, v in removals} == {
        ("wg-amber", 1),
        ("wg-red", 1),
        ("lowered-into-group", 2),
    }
    # The rows it saw through the seat alone are gone with it (seats are read at each
    # request); the removals come last, in log order.
    through_the_seat = {
        ("wg-amber", "CREATE", 1),
        ("wg-red", "CREATE", 1),
        ("deleted", "CREATE", 1),
        ("deleted", "DELETE", 2),
        ("widened", "CREATE", 1),
        ("lowered-into-group", "UPDATE", 2),
    }
    assert through_the_seat <= set(before)
    assert seen(after) == [s for s in before if s not in through_the_seat] + removals
    assert after["totalCount"] == len(before) - len(through_the_seat) + len(LOST)
    assert all(
        (e["node"]["distribution"], e["node"]["tlp"], e["node"]["workingGroup"])
        == (None, None, None)
        for e in after["edges"]
        if e["node"]["operation"] == "REMOVE"
    )
    assert {e["node"]["reason"] for e in after["edges"] if e["node"]["operation"] == "REMOVE"} == {
        "SEAT_ENDED"
    }
    # Nobody else sees the removals addressed to city-police, nor anything new.
    for relation, earlier in others_before.items():
        assert seen(await feed(gql, token_for(relation, alliance, issue_token))) == earlier
    # One set-based statement wrote them.
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO CHANGE_LOG")]
    assert len(inserts) == 2, inserts  # the seat's own DELETE row, then the removals
    assert "SELECT" in inserts[1].upper()


async def test_a_seat_ended_twice_tells_twice_and_a_new_seat_tells_nothing(
    gql, alliance, group_objects, issue_token, sessions
) -> None:
    await remove_city_police(gql, alliance, issue_token)
    async with unit_of_work(sessions) as session:
        await service.add_working_group_member(
            session,
            None,
            working_group_id=alliance["groups"]["automotive-parts"].id,
            organisation_id=alliance["orgs"]["city-police"].id,
            role="MEMBER",
        )
    await remove_city_police(gql, alliance, issue_token)

    page = await feed(gql, token_for("city-police", alliance, issue_token))
    removals = sorted(o for o, op, _ in seen(page) if op == "REMOVE")
    assert removals == sorted([*LOST, *LOST])


async def test_removal_pages_stay_full_and_counts_right(
    gql, alliance, issue_token, sessions
) -> None:
    """40 objects; half lowered from ALLIANCE to ORGANISATION, interleaved with invisible rows."""
    acme = alliance["orgs"]["acme-motors"].id
    async with unit_of_work(sessions) as session:
        for n in range(40):
            shared = Visibility(acme, None, D.ALLIANCE, TLP.GREEN)
            for version, (d, prev) in enumerate(
                [(D.ALLIANCE, None), (D.ORGANISATION if n % 2 else D.ALLIANCE, shared)], start=1
            ):
                record_change(
                    session,
                    kind=KIND,
                    object_id=f"o{n:02}",
                    version=version,
                    operation=Operation.CREATE if version == 1 else Operation.UPDATE,
                    distribution=d,
                    tlp=TLP.GREEN,
                    owner_org_id=acme,
                    previous=prev,
                )
            record_change(
                session,
                kind=KIND,
                object_id=f"private{n:02}",
                version=1,
                operation=Operation.CREATE,
                distribution=D.ORGANISATION,
                tlp=TLP.GREEN,
                owner_org_id=acme,
            )
    token = token_for("luxe-house", alliance, issue_token)

    walked: list[tuple[str, str, int]] = []
    after = None
    while True:
        page = await feed(gql, token, first=7, after=after)
        assert page["totalCount"] == 80  # 40 creations, 20 updates, 20 removals
        walked += seen(page)
        if not page["pageInfo"]["hasNextPage"]:
            assert len(page["edges"]) == 80 % 7
            break
        assert len(page["edges"]) == 7
        after = page["pageInfo"]["endCursor"]

    assert len(walked) == 80
    assert sorted(o for o, op, _ in walked if op == "REMOVE") == [
        f"o{n:02}" for n in range(1, 40, 2)
    ]
    assert not any(o.startswith("private") for o, _, _ in walked)
