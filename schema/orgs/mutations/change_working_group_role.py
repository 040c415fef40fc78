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

ChangeWorkingGroupRoleResult = Annotated[
    MembershipPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("ChangeWorkingGroupRoleResult"),
]


@strawberry.type
class ChangeWorkingGroupRole:
    @mutation_field(
        scopes(*MANAGE_MEMBERS),
        description="Change an organisation's role in a working group; a group always keeps one chair.",
    )
    async def change_working_group_role(
        self, info: Info, input: WorkingGroupRoleInput
    ) -> ChangeWorkingGroupRoleResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            group_id, org_id = seat_ids(input)
            seat = await service.change_working_group_role(
                session,
                principal,
                working_group_id=group_id,
                organisation_id=org_id,
                role=input.role,
            )
            return MembershipPayload(membership=Membership.from_model(seat))

        return await run_mutation(info, work)
