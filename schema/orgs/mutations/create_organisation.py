from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.orgs import service
from schema.errors import Conflict, Forbidden, ValidationError
from schema.mutations import run_mutation
from schema.orgs.types import Organisation, OrganisationKind
from schema.permissions import mutation_field, scopes


@strawberry.input
class CreateOrganisationInput:
    slug: str
    name: str
    kind: OrganisationKind  # type: ignore[valid-type]
    country: str | None = strawberry.field(default=None, description="ISO 3166-1 alpha-2 code.")
    verified: bool = False


@strawberry.type
class CreateOrganisationPayload:
    organisation: Organisation


CreateOrganisationResult = Annotated[
    CreateOrganisationPayload | ValidationError | Forbidden | Conflict,
    strawberry.union("CreateOrganisationResult"),
]


@strawberry.type
class CreateOrganisation:
    @mutation_field(scopes("admin"), description="Admit an organisation to the alliance.")
    async def create_organisation(
        self, info: Info, input: CreateOrganisationInput
    ) -> CreateOrganisationResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            org = await service.create_organisation(
                session,
                principal,
                service.OrganisationData(
                    slug=input.slug,
                    name=input.name,
                    kind=input.kind,
                    country=input.country,
                    verified=input.verified,
                ),
            )
            return CreateOrganisationPayload(organisation=Organisation.from_model(org))

        return await run_mutation(info, work)
