from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.auth import service
from schema.auth.mutations.clients import MANAGE_IDENTITIES, OAuthClientInput
from schema.auth.types import OAuthClient
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes


@strawberry.type(name="RotateOAuthClientSecretPayload")
class RotateOAuthClientSecretPayload:
    client: OAuthClient
    client_secret: str = strawberry.field(
        description="The new secret, shown this once; the old one no longer works."
    )


RotateOAuthClientSecretResult = Annotated[
    RotateOAuthClientSecretPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("RotateOAuthClientSecretResult"),
]


@strawberry.type
class RotateOAuthClientSecret:
    @mutation_field(
        scopes(*MANAGE_IDENTITIES),
        name="rotateOAuthClientSecret",
        description=(
            "Give a client a new secret (CONFLICT for clients that authenticate with keys "
            "or not at all)."
        ),
    )
    async def rotate_oauth_client_secret(
        self, info: Info, input: OAuthClientInput
    ) -> RotateOAuthClientSecretResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            rotated = await session.run_sync(
                lambda s: service.rotate_client_secret(s, principal, input.client_id)
            )
            assert rotated.secret is not None
            return RotateOAuthClientSecretPayload(
                client=OAuthClient.from_model(rotated.client), client_secret=rotated.secret
            )

        return await run_mutation(info, work)
