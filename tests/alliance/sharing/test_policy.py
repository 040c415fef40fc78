"""The sharing policy's decisions, pure: the hand-written matrix, travel, writing, viewers,
and the search filter read by an evaluator of the test's own."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance.auth.principal import Principal
from alliance.auth.scopes import SCOPES
from alliance.orgs.models import MembershipRole
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import (
    FEDERATION_SCOPE,
    AllOf,
    AnyOf,
    Destination,
    Filter,
    Seat,
    Terms,
    Viewer,
    ViewerKind,
    Visibility,
    can_contribute,
    can_see,
    may_travel,
    search_filter,
)
from tests.alliance.sharing.matrix import (
    EDGE_CASES,
    GROUP,
    OTHER_GROUP,
    OWNER,
    RELATIONS,
    SEES,
    expected,
    matrix_object,
)

D, T = Distribution, TLP
GRID = [(d, t) for d in Distribution for t in TLP]


def test_the_table_covers_every_distribution_and_marking() -> None:
    assert set(SEES) == set(GRID)
    assert len(GRID) == 20


@pytest.mark.parametrize(("distribution", "tlp"), GRID, ids=lambda v: str(v))
def test_can_see_follows_the_matrix(distribution: Distribution, tlp: TLP) -> None:
    obj = matrix_object(distribution, tlp)

    decided = {relation: can_see(viewer, obj) for relation, viewer in RELATIONS.items()}

    assert decided == expected(distribution, tlp)


@pytest.mark.parametrize(("obj", "seen_by"), EDGE_CASES, ids=lambda v: str(v))
def test_objects_without_an_owner_or_a_group(obj: Visibility, seen_by: set[str]) -> None:
    assert {r for r, viewer in RELATIONS.items() if can_see(viewer, obj)} == seen_by


# fmt: off
#                                   FEDERATION EXTERNAL_EXPORT
TRAVELS: dict[tuple[Distribution, TLP], str] = {
    (D.ORGANISATION, T.CLEAR):        ".         Y",
    (D.ORGANISATION, T.GREEN):        ".         Y",
    (D.ORGANISATION, T.AMBER):        ".         Y",
    (D.ORGANISATION, T.AMBER_STRICT): ".         Y",
    (D.ORGANISATION, T.RED):          ".         .",
    (D.WORKING_GROUP, T.CLEAR):       ".         Y",
    (D.WORKING_GROUP, T.GREEN):       ".         Y",
    (D.WORKING_GROUP, T.AMBER):       ".         Y",
    (D.WORKING_GROUP, T.AMBER_STRICT):".         Y",
    (D.WORKING_GROUP, T.RED):         ".         .",
    (D.ALLIANCE, T.CLEAR):            ".         Y",
    (D.ALLIANCE, T.GREEN):            ".         Y",
    (D.ALLIANCE, T.AMBER):            ".         Y",
    (D.ALLIANCE, T.AMBER_STRICT):     ".         Y",
    (D.ALLIANCE, T.RED):              ".         .",
    (D.FEDERATION, T.CLEAR):          "Y         Y",
    (D.FEDERATION, T.GREEN):          "Y         Y",
    (D.FEDERATION, T.AMBER):          ".         Y",
    (D.FEDERATION, T.AMBER_STRICT):   ".         Y",
    (D.FEDERATION, T.RED):            ".         .",
}
# fmt: on


@pytest.mark.parametrize(("distribution", "tlp"), GRID, ids=lambda v: str(v))
def test_tlp_decides_where_an_object_may_travel(distribution: Distribution, tlp: TLP) -> None:
    obj = matrix_object(distribution, tlp)
    marks = TRAVELS[(distribution, tlp)].split()

    travels = [may_travel(obj, d) for d in (Destination.FEDERATION, Destination.EXTERNAL_EXPORT)]

    assert travels == [m == "Y" for m in marks]
    # A peer sees exactly what may cross federation.
    assert can_see(RELATIONS["peer"], obj) is travels[0]


def test_red_never_travels_anywhere() -> None:
    for distribution in Distribution:
        obj = Visibility(OWNER, GROUP, distribution, TLP.RED)
        assert not any(may_travel(obj, d) for d in Destination)


# --- writing ------------------------------------------------------------------------------------

# fmt: off
#                            object's group  other group  no group
CONTRIBUTES: dict[str, str] = {
    "owner":       ".               .            Y",
    "chair":       "Y               .            Y",
    "member":      "Y               .            Y",
    "observer":    ".               .            Y",
    "other-group": ".               Y            Y",
    "no-seat":     ".               .            Y",
    "peer":        ".               .            .",
    "anonymous":   ".               .            .",
}
# fmt: on


@pytest.mark.parametrize("relation", list(RELATIONS))
def test_chairs_and_members_write_observers_read(relation: str) -> None:
    viewer = RELATIONS[relation]

    decided = [can_contribute(viewer, g) for g in (GROUP, OTHER_GROUP, None)]

    assert decided == [m == "Y" for m in CONTRIBUTES[relation].split()]


# --- viewers -----------------------------------------------------------------------------------


def principal(*scopes: str, working_group_ids: frozenset[uuid.UUID] | None = None) -> Principal:
    return Principal(
        organisation_id=OWNER,
        organisation_slug="owner",
        client_id="c",
        subject="s",
        scopes=frozenset(scopes),
        token_id="j",
        working_group_ids=working_group_ids,
    )


def test_a_viewer_from_a_principal_carries_its_organisation_and_seats() -> None:
    seats = [Seat(GROUP, MembershipRole.OBSERVER), Seat(OTHER_GROUP, MembershipRole.CHAIR)]

    viewer = Viewer.for_principal(principal("sync:read"), seats)

    assert viewer.kind == ViewerKind.MEMBER
    assert viewer.organisation_id == OWNER
    assert viewer.working_group_ids == {GROUP, OTHER_GROUP}
    assert viewer.role_in(GROUP) == MembershipRole.OBSERVER
    assert viewer.role_in(uuid.uuid4()) is None


def test_a_token_limited_to_some_groups_keeps_only_those_seats() -> None:
    seats = [Seat(GROUP, MembershipRole.MEMBER), Seat(OTHER_GROUP, MembershipRole.CHAIR)]

    viewer = Viewer.for_principal(
        principal("sync:read", working_group_ids=frozenset({GROUP})), seats
    )
    unlimited = Viewer.for_principal(principal("sync:read"), seats)
    nothing = Viewer.for_principal(principal("sync:read", working_group_ids=frozenset()), seats)

    assert viewer.seats == {Seat(GROUP, MembershipRole.MEMBER)}
    assert unlimited.working_group_ids == {GROUP, OTHER_GROUP}
    assert nothing.seats == frozenset()
    shared_elsewhere = Visibility(uuid.uuid4(), OTHER_GROUP, D.WORKING_GROUP, T.AMBER)
    assert can_see(unlimited, shared_elsewhere)
    assert not can_see(viewer, shared_elsewhere)
    assert not can_contribute(viewer, OTHER_GROUP)
    # What the organisation owns stays visible to every token of it.
    assert can_see(nothing, Visibility(OWNER, OTHER_GROUP, D.ORGANISATION, T.RED))


def test_no_principal_is_anonymous() -> None:
    assert Viewer.for_principal(None, [Seat(GROUP, MembershipRole.CHAIR)]) == Viewer.anonymous()


def test_the_federation_scope_makes_a_peer_whatever_else_the_token_carries() -> None:
    assert FEDERATION_SCOPE in SCOPES
    viewer = Viewer.for_principal(
        principal("sync:read", "admin", FEDERATION_SCOPE), [Seat(GROUP, MembershipRole.CHAIR)]
    )

    assert viewer == Viewer.federated_peer()
    assert not can_see(viewer, Visibility(OWNER, GROUP, D.ALLIANCE, T.CLEAR))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": ViewerKind.MEMBER}, "has an organisation"),
        ({"kind": ViewerKind.ANONYMOUS, "organisation_id": OWNER}, "has an organisation"),
        (
            {"kind": ViewerKind.FEDERATED_PEER, "seats": frozenset({Seat(GROUP, "CHAIR")})},
            "only a member viewer holds",
        ),
        (
            {
                "kind": ViewerKind.MEMBER,
                "organisation_id": OWNER,
                "seats": frozenset({Seat(GROUP, "CHAIR"), Seat(GROUP, "OBSERVER")}),
            },
            "at most one seat",
        ),
    ],
)
def test_impossible_viewers_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Viewer(**kwargs)


def test_viewers_are_values() -> None:
    a = Viewer.member(OWNER, [(GROUP, MembershipRole.MEMBER), (OTHER_GROUP, "OBSERVER")])
    b = Viewer.member(OWNER, [Seat(OTHER_GROUP, MembershipRole.OBSERVER), (GROUP, "MEMBER")])

    assert a == b
    assert hash(a) == hash(b)
    assert search_filter(a) == search_filter(b)


# --- the search filter, read by an evaluator that knows nothing of the policy ----------------


def evaluate(rule: Filter, document: dict[str, str | None]) -> bool:
    """How a search backend reads the filter: string terms against a document's string fields."""
    if isinstance(rule, Terms):
        value = document.get(rule.field.value)
        return value is not None and value in {str(v) for v in rule.values}
    if isinstance(rule, AllOf):
        return all(evaluate(c, document) for c in rule.clauses)
    assert isinstance(rule, AnyOf)
    return any(evaluate(c, document) for c in rule.clauses)


def as_document(obj: Visibility) -> dict[str, str | None]:
    return {
        "owner_org_id": str(obj.owner_org_id) if obj.owner_org_id else None,
        "working_group_id": str(obj.working_group_id) if obj.working_group_id else None,
        "distribution": obj.distribution.value,
        "tlp": obj.tlp.value,
    }


@pytest.mark.parametrize(("distribution", "tlp"), GRID, ids=lambda v: str(v))
def test_the_search_filter_follows_the_matrix(distribution: Distribution, tlp: TLP) -> None:
    document = as_document(matrix_object(distribution, tlp))

    decided = {r: evaluate(search_filter(v), document) for r, v in RELATIONS.items()}

    assert decided == expected(distribution, tlp)


def test_the_search_filter_is_plain_data_on_the_four_fields() -> None:
    def fields(rule: Filter) -> set[str]:
        if isinstance(rule, Terms):
            assert all(isinstance(v, uuid.UUID | Distribution | TLP) for v in rule.values)
            return {rule.field.value}
        return set().union(*(fields(c) for c in rule.clauses)) if rule.clauses else set()

    used = set().union(*(fields(search_filter(v)) for v in RELATIONS.values()))
    assert used == {"owner_org_id", "working_group_id", "distribution", "tlp"}
    assert search_filter(Viewer.anonymous()) == AnyOf(())
    # An empty AnyOf matches nothing, whatever the document.
    assert not evaluate(
        search_filter(Viewer.anonymous()), as_document(matrix_object(D.FEDERATION, T.CLEAR))
    )


# --- random viewers and objects -------------------------------------------------------------

ORG_POOL = [uuid.UUID(int=0xA000 + n) for n in range(4)]
GROUP_POOL = [uuid.UUID(int=0xB000 + n) for n in range(3)]

member_viewers = st.builds(
    Viewer.member,
    st.sampled_from(ORG_POOL),
    st.dictionaries(st.sampled_from(GROUP_POOL), st.sampled_from(MembershipRole)).map(
        lambda seats: list(seats.items())
    ),
)
viewers = st.one_of(member_viewers, st.just(Viewer.anonymous()), st.just(Viewer.federated_peer()))
objects = st.builds(
    Visibility,
    st.one_of(st.none(), st.sampled_from(ORG_POOL)),
    st.one_of(st.none(), st.sampled_from(GROUP_POOL)),
    st.sampled_from(Distribution),
    st.sampled_from(TLP),
)


@given(viewers, objects)
def test_the_search_filter_admits_exactly_what_can_see_admits(
    viewer: Viewer, obj: Visibility
) -> None:
    assert evaluate(search_filter(viewer), as_document(obj)) is can_see(viewer, obj)


@given(member_viewers, objects)
def test_an_organisation_always_sees_what_it_owns(viewer: Viewer, obj: Visibility) -> None:
    assert viewer.organisation_id is not None
    owned = Visibility(viewer.organisation_id, obj.working_group_id, obj.distribution, obj.tlp)
    assert can_see(viewer, owned)


@given(member_viewers, objects)
def test_widening_distribution_never_hides_an_object(viewer: Viewer, obj: Visibility) -> None:
    order = list(Distribution)
    for wider in order[order.index(obj.distribution) :]:
        widened = Visibility(obj.owner_org_id, obj.working_group_id, wider, obj.tlp)
        assert can_see(viewer, widened) or not can_see(viewer, obj)
