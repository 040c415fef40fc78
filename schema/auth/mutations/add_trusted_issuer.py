from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from alliance.auth import service
from schema.auth.mutations.clients import MANAGE_IDENTITIES
from schema.auth.types import TrustedIssuer
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes
from schema.relay import from_global_id


@strawberry.input
class AddTrustedIssuerInput:
    organisation_id: strawberry.ID
    issuer: str = strawberry.field(description="The issuer identifier (the assertions' `iss`).")
    jwks_url: str | None = strawberry.field(
        default=None, description="Where its public keys are published (fetched, cached)."
    )
    jwks: JSON | None = strawberry.field(
        default=None, description="Its public keys inline: a JWKS (or one JWK)."
    )


@strawberry.type
class AddTrustedIssuerPayload:
    trusted_issuer: TrustedIssuer


AddTrustedIssuerResult = Annotated[
    AddTrustedIssuerPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("AddTrustedIssuerResult"),
]


@strawberry.type
class AddTrustedIssuer:
    @mutation_field(
        scopes(*MANAGE_IDENTITIES),
        description=(
            "Trust an organisation's identity provider to vouch for its people and services "
            "(give exactly one of jwksUrl or jwks)."
        ),
    )
    async def add_trusted_issuer(
        self, info: Info, input: AddTrustedIssuerInput
    ) -> AddTrustedIssuerResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            org_id = from_global_id(input.organisation_id, "organisationId", "Organisation")[1]
            trusted = await session.run_sync(
                lambda s: service.add_issuer(
                    s,
                    principal,
                    organisation=org_id,
                    issuer=input.issuer,
                    jwks=input.jwks,
                    jwks_uri=input.jwks_url,
                )
            )
            return AddTrustedIssuerPayload(trusted_issuer=TrustedIssuer.from_model(trusted))

        return await run_mutation(info, work)
