from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.orgs import members
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.mutations import run_mutation
from schema.orgs.mutations.people import MANAGE_PEOPLE, PersonInput, PersonPayload, person_id
from schema.orgs.types import Person
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
        async def work(session, principal):  # type: ignore[no-untyped-def]
            person = await members.set_organisation_admin(
                session, principal, person_id(input), org_admin=True
            )
            return PersonPayload(person=Person.from_model(person))

        return await run_mutation(info, work)
