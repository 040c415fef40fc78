from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.orgs import service
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.mutations import run_mutation
from schema.orgs.mutations.memberships import MANAGE_MEMBERS, WorkingGroupSeatInput, seat_ids
from schema.permissions import mutation_field, scopes
from schema.relay import to_global_id


@strawberry.type
class RemoveWorkingGroupMemberPayload:
    removed_membership_id: strawberry.ID
    working_group_id: strawberry.ID
    organisation_id: strawberry.ID


RemoveWorkingGroupMemberResult = Annotated[
    RemoveWorkingGroupMemberPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("RemoveWorkingGroupMemberResult"),
]


@strawberry.type
class RemoveWorkingGroupMember:
    @mutation_field(
        scopes(*MANAGE_MEMBERS),
        description="Take an organisation's seat away; the last chair cannot be removed.",
    )
    async def remove_working_group_member(
        self, info: Info, input: WorkingGroupSeatInput
    ) -> RemoveWorkingGroupMemberResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            group_id, org_id = seat_ids(input)
            seat = await service.remove_working_group_member(
                session, principal, working_group_id=group_id, organisation_id=org_id
            )
            return RemoveWorkingGroupMemberPayload(
                removed_membership_id=to_global_id("Membership", seat.id),
                working_group_id=input.working_group_id,
                organisation_id=input.organisation_id,
            )

        return await run_mutation(info, work)
