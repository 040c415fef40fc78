from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.auth.accounts import create_local_user
from schema.auth.mutations.clients import MANAGE_IDENTITIES
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.mutations import run_mutation
from schema.orgs.types import Person
from schema.permissions import mutation_field, scopes
from schema.relay import from_global_id


@strawberry.input
class CreateLocalUserInput:
    organisation_id: strawberry.ID
    email: str = strawberry.field(description="The sign-in name.")
    password: str = strawberry.field(
        description="At least 12 characters; stored argon2-hashed, never shown again."
    )
    display_name: str | None = strawberry.field(default=None, description="Default: the e-mail.")
    org_admin: bool = strawberry.field(
        default=False, description="They administer their organisation (may get `org:admin`)."
    )


@strawberry.type
class CreateLocalUserPayload:
    person: Person
    org_admin: bool
    created: bool = strawberry.field(
        description="False: an existing person of the organisation got a new password."
    )


CreateLocalUserResult = Annotated[
    CreateLocalUserPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("CreateLocalUserResult"),
]


@strawberry.type
class CreateLocalUser:
    @mutation_field(
        scopes(*MANAGE_IDENTITIES),
        description=(
            "Give a person a local account to sign in on the authorization page (created if "
            "new); operators in any organisation, organisation admins in their own."
        ),
    )
    async def create_local_user(
        self, info: Info, input: CreateLocalUserInput
    ) -> CreateLocalUserResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            org_id = from_global_id(input.organisation_id, "organisationId", "Organisation")[1]
            account = await create_local_user(
                session,
                principal,
                organisation=org_id,
                email=input.email,
                password=input.password,
                display_name=input.display_name,
                org_admin=input.org_admin,
            )
            return CreateLocalUserPayload(
                person=Person.from_model(account.person),
                org_admin=account.person.org_admin,
                created=account.created,
            )

        return await run_mutation(info, work)
