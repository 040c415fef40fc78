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

DisablePersonResult = Annotated[
    PersonPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("DisablePersonResult"),
]


@strawberry.type
class DisablePerson:
    @mutation_field(
        scopes(*MANAGE_PEOPLE),
        description=(
            "Disable a person: no more sign-in or tokens, their refresh tokens revoked and portal sessions ended; an organisation always keeps one enabled admin."
        ),
    )
    async def disable_person(self, info: Info, input: PersonInput) -> DisablePersonResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            person = await members.set_person_disabled(
                session, principal, person_id(input), disabled=True
            )
            return PersonPayload(person=Person.from_model(person))

        return await run_mutation(info, work)
