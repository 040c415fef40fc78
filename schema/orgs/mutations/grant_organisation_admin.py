from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.orgs import members
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.orgs.mutations.people import MANAGE_PEOPLE, PersonInput, PersonPayload, change_person
from schema.permissions import mutation_field, scopes

GrantOrganisationAdminResult = Annotated[
    PersonPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("GrantOrganisationAdminResult"),
]


@strawberry.type
class GrantOrganisationAdmin:
    @mutation_field(
        scopes(*MANAGE_PEOPLE),
        description=(
            "Make a person an admin of their organisation; their next token may carry `org:admin`. Operators in any organisation, organisation admins in their own."
        ),
    )
    async def grant_organisation_admin(
        self, info: Info, input: PersonInput
    ) -> GrantOrganisationAdminResult:
        return await change_person(
            info, input, lambda s, p, who: members.set_organisation_admin(s, p, who, org_admin=True)
        )
