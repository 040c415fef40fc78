from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.orgs import service
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.mutations import run_mutation
from schema.orgs.mutations.memberships import (
    MANAGE_MEMBERS,
    MembershipPayload,
    WorkingGroupRoleInput,
    seat_ids,
)
from schema.orgs.types import Membership
from schema.permissions import mutation_field, scopes

AddWorkingGroupMemberResult = Annotated[
    MembershipPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("AddWorkingGroupMemberResult"),
]


@strawberry.type
class AddWorkingGroupMember:
    @mutation_field(
        scopes(*MANAGE_MEMBERS),
        description="Give an organisation a seat in a working group (operators, or admins of a chair organisation).",
    )
    async def add_working_group_member(
        self, info: Info, input: WorkingGroupRoleInput
    ) -> AddWorkingGroupMemberResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            group_id, org_id = seat_ids(input)
            seat = await service.add_working_group_member(
                session,
                principal,
                working_group_id=group_id,
                organisation_id=org_id,
                role=input.role,
            )
            return MembershipPayload(membership=Membership.from_model(seat))

        return await run_mutation(info, work)
