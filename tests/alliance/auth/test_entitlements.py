"""The ceiling a token lives under: pure decisions, checked case by case."""

from __future__ import annotations

import uuid

import pytest

from alliance.auth.entitlements import (
    Ceiling,
    ScopeRefused,
    client_scopes,
    decide,
    organisation_scopes,
    parse_scope,
    person_scopes,
    working_group_ceiling,
)
from alliance.auth.scopes import SCOPES

AUTO, LUXE = uuid.uuid4(), uuid.uuid4()
SEATS = {"automotive-parts": AUTO, "luxury-goods": LUXE}
CEILING = Ceiling(scopes=frozenset({"indicators:read", "sync:read"}), working_groups=SEATS)


def test_nothing_asked_means_everything_allowed() -> None:
    granted = decide(None, CEILING)
    assert granted.scopes == ("indicators:read", "sync:read")
    assert granted.working_groups == (("automotive-parts", AUTO), ("luxury-goods", LUXE))
    assert granted.scope_string == "indicators:read sync:read wg:automotive-parts wg:luxury-goods"


def test_asking_narrows_each_dimension_separately() -> None:
    granted = decide("sync:read wg:luxury-goods sync:read", CEILING)
    assert granted.scopes == ("sync:read",)
    assert granted.working_group_ids == (LUXE,)
    only_groups = decide("wg:automotive-parts", CEILING)
    assert only_groups.scopes == ("indicators:read", "sync:read")
    assert only_groups.working_group_ids == (AUTO,)


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ("indicators:write", "not allowed"),
        ("bogus", "unknown scope"),
        ("wg:consumer-electronics", "working group"),
        (
            "indicators:read wg:luxury-goods wg:x",
            "working group(s) not allowed for this client and organisation: x",
        ),
    ],
)
def test_asking_for_more_is_refused_by_name(scope: str, message: str) -> None:
    with pytest.raises(ScopeRefused, match=message.replace("(", r"\(").replace(")", r"\)")):
        decide(scope, CEILING)


def test_an_empty_ceiling_grants_nothing() -> None:
    with pytest.raises(ScopeRefused, match="no scope"):
        decide(None, Ceiling(scopes=frozenset(), working_groups={}))


def test_narrowing_to_an_earlier_grant_drops_what_was_lost_since() -> None:
    earlier = "indicators:read wg:automotive-parts wg:luxury-goods"
    today = Ceiling(scopes=frozenset(SCOPES), working_groups={"automotive-parts": AUTO})
    granted = decide(None, today.narrowed_to(earlier))
    assert granted.scopes == ("indicators:read",)
    assert granted.working_group_ids == (AUTO,)


def test_admin_is_the_operators_alone() -> None:
    assert "admin" in organisation_scopes("ASSOCIATION")
    for kind in ("BRAND", "PLATFORM", "ENFORCEMENT", "TRAINER", "RIGHTS_HOLDER"):
        assert "admin" not in organisation_scopes(kind)
        assert "org:admin" in organisation_scopes(kind)
    assert client_scopes(["admin", "sync:read"], "PLATFORM") == {"sync:read"}


def test_people_do_not_federate_and_only_admins_administer() -> None:
    member = person_scopes("BRAND", org_admin=False)
    admin = person_scopes("BRAND", org_admin=True)
    assert "federation" not in member | admin
    assert "org:admin" not in member
    assert admin - member == {"org:admin"}
    assert "admin" in person_scopes("ASSOCIATION", org_admin=True)
    assert "admin" not in person_scopes("ASSOCIATION", org_admin=False)


def test_a_client_limited_to_groups_sees_only_those_seats() -> None:
    assert working_group_ceiling(SEATS, None) == SEATS
    assert working_group_ceiling(SEATS, [str(LUXE), str(uuid.uuid4())]) == {"luxury-goods": LUXE}
    assert working_group_ceiling(SEATS, []) == {}


def test_parse_scope_splits_operations_and_groups() -> None:
    parsed = parse_scope(" a:b  wg:x a:b wg:y ")
    assert parsed.scopes == ("a:b",)
    assert parsed.working_groups == ("x", "y")
