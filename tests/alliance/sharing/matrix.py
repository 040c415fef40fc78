"""The visibility matrix, written out by hand: every distribution × TLP × relation.

Shared by the policy test, the SQL test and (for its relations) the GraphQL test. The
expected marks are the specification; they are not computed from the policy's rules.
"""

from __future__ import annotations

import uuid

from alliance.orgs.models import MembershipRole
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import Viewer, Visibility

OWNER = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
CHAIR_ORG = uuid.UUID("00000000-0000-4000-8000-0000000000a2")
MEMBER_ORG = uuid.UUID("00000000-0000-4000-8000-0000000000a3")
OBSERVER_ORG = uuid.UUID("00000000-0000-4000-8000-0000000000a4")
OTHER_GROUP_ORG = uuid.UUID("00000000-0000-4000-8000-0000000000a5")
NO_SEAT_ORG = uuid.UUID("00000000-0000-4000-8000-0000000000a6")
GROUP = uuid.UUID("00000000-0000-4000-8000-0000000000b1")  # the object's working group
OTHER_GROUP = uuid.UUID("00000000-0000-4000-8000-0000000000b2")

RELATIONS: dict[str, Viewer] = {
    "owner": Viewer.member(OWNER),
    "chair": Viewer.member(CHAIR_ORG, [(GROUP, MembershipRole.CHAIR)]),
    "member": Viewer.member(MEMBER_ORG, [(GROUP, MembershipRole.MEMBER)]),
    "observer": Viewer.member(OBSERVER_ORG, [(GROUP, MembershipRole.OBSERVER)]),
    "other-group": Viewer.member(OTHER_GROUP_ORG, [(OTHER_GROUP, MembershipRole.CHAIR)]),
    "no-seat": Viewer.member(NO_SEAT_ORG),
    "peer": Viewer.federated_peer(),
    "anonymous": Viewer.anonymous(),
}

D, T = Distribution, TLP
# fmt: off
#                                   owner chair member observer other-group no-seat peer anonymous
SEES: dict[tuple[Distribution, TLP], str] = {
    (D.ORGANISATION, T.CLEAR):        "Y     .     .      .        .           .       .    .",
    (D.ORGANISATION, T.GREEN):        "Y     .     .      .        .           .       .    .",
    (D.ORGANISATION, T.AMBER):        "Y     .     .      .        .           .       .    .",
    (D.ORGANISATION, T.AMBER_STRICT): "Y     .     .      .        .           .       .    .",
    (D.ORGANISATION, T.RED):          "Y     .     .      .        .           .       .    .",
    (D.WORKING_GROUP, T.CLEAR):       "Y     Y     Y      Y        .           .       .    .",
    (D.WORKING_GROUP, T.GREEN):       "Y     Y     Y      Y        .           .       .    .",
    (D.WORKING_GROUP, T.AMBER):       "Y     Y     Y      Y        .           .       .    .",
    (D.WORKING_GROUP, T.AMBER_STRICT):"Y     Y     Y      Y        .           .       .    .",
    (D.WORKING_GROUP, T.RED):         "Y     Y     Y      Y        .           .       .    .",
    (D.ALLIANCE, T.CLEAR):            "Y     Y     Y      Y        Y           Y       .    .",
    (D.ALLIANCE, T.GREEN):            "Y     Y     Y      Y        Y           Y       .    .",
    (D.ALLIANCE, T.AMBER):            "Y     Y     Y      Y        Y           Y       .    .",
    (D.ALLIANCE, T.AMBER_STRICT):     "Y     Y     Y      Y        Y           Y       .    .",
    (D.ALLIANCE, T.RED):              "Y     Y     Y      Y        Y           Y       .    .",
    (D.FEDERATION, T.CLEAR):          "Y     Y     Y      Y        Y           Y       Y    .",
    (D.FEDERATION, T.GREEN):          "Y     Y     Y      Y        Y           Y       Y    .",
    (D.FEDERATION, T.AMBER):          "Y     Y     Y      Y        Y           Y       .    .",
    (D.FEDERATION, T.AMBER_STRICT):   "Y     Y     Y      Y        Y           Y       .    .",
    (D.FEDERATION, T.RED):            "Y     Y     Y      Y        Y           Y       .    .",
}
# fmt: on


def expected(distribution: Distribution, tlp: TLP) -> dict[str, bool]:
    marks = SEES[(distribution, tlp)].split()
    assert len(marks) == len(RELATIONS)
    assert set(marks) <= {"Y", "."}
    return {relation: mark == "Y" for relation, mark in zip(RELATIONS, marks, strict=True)}


def matrix_object(distribution: Distribution, tlp: TLP) -> Visibility:
    return Visibility(OWNER, GROUP, distribution, tlp)


# Objects off the main grid: no owner (directory entries) or no working group.
# (visibility, relations that see it)
EDGE_CASES: list[tuple[Visibility, set[str]]] = [
    (Visibility(None, None, D.ALLIANCE, T.GREEN), {*RELATIONS} - {"peer", "anonymous"}),
    (Visibility(None, None, D.ORGANISATION, T.CLEAR), set()),
    (Visibility(None, GROUP, D.WORKING_GROUP, T.AMBER), {"chair", "member", "observer"}),
    (Visibility(OWNER, None, D.WORKING_GROUP, T.CLEAR), {"owner"}),
    (Visibility(None, None, D.WORKING_GROUP, T.CLEAR), set()),
    (Visibility(None, None, D.FEDERATION, T.CLEAR), {*RELATIONS} - {"anonymous"}),
    (Visibility(None, OTHER_GROUP, D.WORKING_GROUP, T.RED), {"other-group"}),
    (Visibility(OTHER_GROUP_ORG, OTHER_GROUP, D.ORGANISATION, T.GREEN), {"other-group"}),
]
