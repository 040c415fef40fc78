from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.auth import service
from schema.auth.mutations.clients import MANAGE_IDENTITIES
from schema.errors import Forbidden, NotFound, ValidationError
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes
from schema.relay import from_global_id, to_global_id


@strawberry.input
class RemoveTrustedIssuerInput:
    trusted_issuer_id: strawberry.ID


@strawberry.type
class RemoveTrustedIssuerPayload:
    removed_trusted_issuer_id: strawberry.ID
    issuer: str


RemoveTrustedIssuerResult = Annotated[
    RemoveTrustedIssuerPayload | ValidationError | NotFound | Forbidden,
    strawberry.union("RemoveTrustedIssuerResult"),
]


@strawberry.type
class RemoveTrustedIssuer:
    @mutation_field(
        scopes(*MANAGE_IDENTITIES),
        description="Stop trusting an identity provider; its assertions are refused from now on.",
    )
    async def remove_trusted_issuer(
        self, info: Info, input: RemoveTrustedIssuerInput
    ) -> RemoveTrustedIssuerResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            issuer_id = from_global_id(input.trusted_issuer_id, "trustedIssuerId", "TrustedIssuer")[
                1
            ]
            removed = await session.run_sync(
                lambda s: service.remove_issuer(s, principal, issuer_id)
            )
            return RemoveTrustedIssuerPayload(
                removed_trusted_issuer_id=to_global_id("TrustedIssuer", removed.id),
                issuer=removed.issuer,
            )

        return await run_mutation(info, work)
