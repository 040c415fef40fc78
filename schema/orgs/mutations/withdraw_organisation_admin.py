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
        async def work(session, principal):  # type: ignore[no-untyped-def]
            person = await members.set_organisation_admin(
                session, principal, person_id(input), org_admin=False
            )
            return PersonPayload(person=Person.from_model(person))

        return await run_mutation(info, work)
