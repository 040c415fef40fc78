from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.orgs import members
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.orgs.mutations.people import MANAGE_PEOPLE, PersonInput, PersonPayload, change_person
from schema.permissions import mutation_field, scopes

WithdrawOrganisationAdminResult = Annotated[
    PersonPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("WithdrawOrganisationAdminResult"),
]


@strawberry.type
class WithdrawOrganisationAdmin:
    @mutation_field(
        scopes(*MANAGE_PEOPLE),
        description=(
            "Withdraw a person's organisation admin role; an organisation always keeps one enabled admin."
        ),
    )
    async def withdraw_organisation_admin(
        self, info: Info, input: PersonInput
    ) -> WithdrawOrganisationAdminResult:
        return await change_person(
            info,
            input,
            lambda s, p, who: members.set_organisation_admin(s, p, who, org_admin=False),
        )
