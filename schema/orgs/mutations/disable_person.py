from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.orgs import members
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.orgs.mutations.people import MANAGE_PEOPLE, PersonInput, PersonPayload, change_person
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
        return await change_person(
            info, input, lambda s, p, who: members.set_person_disabled(s, p, who, disabled=True)
        )
