"""The feed tests' world: the demo directory and changes of every visibility."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from alliance.changelog import service as changelog
from alliance.changelog.models import Operation
from alliance.db import unit_of_work
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import Visibility


async def write(sessions: Any, *changes: dict[str, Any]) -> None:
    async with unit_of_work(sessions) as s:
        for change in changes:
            changelog.record_change(s, **{"version": 1, "operation": Operation.CREATE} | change)


@pytest.fixture
async def world(demo: dict[str, Any], sessions: Any, issue_token: Any) -> dict[str, Any]:
    orgs, groups = demo["orgs"], demo["groups"]
    acme, automotive = orgs["acme-motors"].id, groups["automotive-parts"].id
    ids = {
        name: f"{name}-{uuid.uuid4().hex[:6]}"
        for name in (
            "public",
            "secret",
            "group",
            "lowered",
            "other",
            "federated",
            "federated_red",
        )
    }
    a, b = "feedtest.a", "feedtest.b"
    await write(
        sessions,
        {
            "kind": a,
            "object_id": ids["public"],
            "distribution": Distribution.ALLIANCE,
            "tlp": TLP.GREEN,
            "owner_org_id": acme,
        },
        {
            "kind": a,
            "object_id": ids["secret"],
            "distribution": Distribution.ORGANISATION,
            "tlp": TLP.RED,
            "owner_org_id": acme,
        },
        {
            "kind": a,
            "object_id": ids["group"],
            "distribution": Distribution.WORKING_GROUP,
            "tlp": TLP.AMBER,
            "owner_org_id": acme,
            "working_group_id": automotive,
        },
        {
            "kind": a,
            "object_id": ids["lowered"],
            "distribution": Distribution.ALLIANCE,
            "tlp": TLP.GREEN,
            "owner_org_id": acme,
        },
        {
            "kind": b,
            "object_id": ids["other"],
            "distribution": Distribution.ALLIANCE,
            "tlp": TLP.CLEAR,
            "owner_org_id": acme,
        },
        {
            "kind": b,
            "object_id": ids["federated"],
            "distribution": Distribution.FEDERATION,
            "tlp": TLP.GREEN,
            "owner_org_id": acme,
        },
        {
            "kind": b,
            "object_id": ids["federated_red"],
            "distribution": Distribution.FEDERATION,
            "tlp": TLP.RED,
            "owner_org_id": acme,
        },
    )
    # The lowered object narrows to its owner: whoever saw it before must drop it.
    await write(
        sessions,
        {
            "kind": a,
            "object_id": ids["lowered"],
            "version": 2,
            "operation": Operation.UPDATE,
            "distribution": Distribution.ORGANISATION,
            "tlp": TLP.AMBER,
            "owner_org_id": acme,
            "previous": Visibility(acme, None, Distribution.ALLIANCE, TLP.GREEN),
        },
    )
    return {
        "ids": ids,
        "orgs": orgs,
        "groups": groups,
        "luxe": issue_token(orgs["luxe-house"], "sync:read"),
        "shopmart": issue_token(orgs["shopmart"], "sync:read"),
        "acme": issue_token(orgs["acme-motors"], "sync:read"),
        "peer": issue_token(orgs["alliance-office"], "federation"),
        "no_scope": issue_token(orgs["luxe-house"], "rules:read indicators:read"),
    }
