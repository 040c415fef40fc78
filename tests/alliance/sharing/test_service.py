"""Loading a viewer: the organisation's seats as the database holds them now."""

from __future__ import annotations

from typing import Any

from alliance.auth.principal import Principal
from alliance.db import unit_of_work
from alliance.demo import MEMBERSHIPS
from alliance.orgs import service as orgs
from alliance.sharing.policy import Seat, Viewer, ViewerKind
from alliance.sharing.service import load_viewer


def principal_of(org: Any, scopes: str = "sync:read", **kw: Any) -> Principal:
    return Principal(
        organisation_id=org.id,
        organisation_slug=org.slug,
        client_id="tests",
        subject=f"test:{org.slug}",
        scopes=frozenset(scopes.split()),
        token_id="t",
        **kw,
    )


async def test_a_viewer_holds_its_organisations_seats(session, demo: dict[str, Any]) -> None:
    police = demo["orgs"]["city-police"]

    viewer = await load_viewer(session, principal_of(police))

    assert viewer.kind == ViewerKind.MEMBER
    assert viewer.organisation_id == police.id
    assert viewer.seats == {
        Seat(demo["groups"][group].id, seats["city-police"]) for group, seats in MEMBERSHIPS.items()
    }


async def test_a_limited_token_keeps_only_its_groups(session, demo: dict[str, Any]) -> None:
    luxury = demo["groups"]["luxury-goods"].id

    viewer = await load_viewer(
        session, principal_of(demo["orgs"]["shopmart"], working_group_ids=frozenset({luxury}))
    )

    assert viewer.working_group_ids == {luxury}


async def test_anonymous_and_peers_need_no_seats(session, demo: dict[str, Any]) -> None:
    assert await load_viewer(session, None) == Viewer.anonymous()
    peer = await load_viewer(session, principal_of(demo["orgs"]["alliance-office"], "federation"))
    assert peer == Viewer.federated_peer()


async def test_an_ended_seat_is_gone_from_the_next_viewer(sessions, demo: dict[str, Any]) -> None:
    office = demo["orgs"]["alliance-office"]
    automotive = demo["groups"]["automotive-parts"].id
    async with unit_of_work(sessions) as s:
        await orgs.remove_working_group_member(
            s, None, working_group_id=automotive, organisation_id=office.id
        )

    async with sessions() as s:
        viewer = await load_viewer(s, principal_of(office))

    assert automotive not in viewer.working_group_ids
    assert len(viewer.seats) == 2
