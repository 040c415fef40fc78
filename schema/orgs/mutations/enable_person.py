from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.orgs import members
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.orgs.mutations.people import MANAGE_PEOPLE, PersonInput, PersonPayload, change_person
from schema.permissions import mutation_field, scopes

EnablePersonResult = Annotated[
    PersonPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("EnablePersonResult"),
]


@strawberry.type
class EnablePerson:
    @mutation_field(
        scopes(*MANAGE_PEOPLE),
        description=("Let a disabled person sign in again."),
    )
    async def enable_person(self, info: Info, input: PersonInput) -> EnablePersonResult:
        return await change_person(
            info, input, lambda s, p, who: members.set_person_disabled(s, p, who, disabled=False)
        )
