"""Shared input and payload of the three membership mutations."""

from __future__ import annotations

import uuid

import strawberry

from schema.orgs.types import Membership, MembershipRole
from schema.relay import from_global_id

MANAGE_MEMBERS = ("admin", "org:admin")


@strawberry.input
class WorkingGroupSeatInput:
    working_group_id: strawberry.ID
    organisation_id: strawberry.ID


@strawberry.input
class WorkingGroupRoleInput:
    working_group_id: strawberry.ID
    organisation_id: strawberry.ID
    role: MembershipRole  # type: ignore[valid-type]


@strawberry.type
class MembershipPayload:
    membership: Membership


def seat_ids(input: WorkingGroupSeatInput | WorkingGroupRoleInput) -> tuple[uuid.UUID, uuid.UUID]:
    """Decode both ids, reporting every bad one at once."""
    from alliance.errors import InvalidInput

    problems = []
    ids: list[uuid.UUID] = []
    for field, value, kind in (
        ("workingGroupId", input.working_group_id, "WorkingGroup"),
        ("organisationId", input.organisation_id, "Organisation"),
    ):
        try:
            ids.append(from_global_id(value, field, kind)[1])
        except InvalidInput as exc:
            problems.extend(exc.problems)
    if problems:
        raise InvalidInput(problems)
    return ids[0], ids[1]
