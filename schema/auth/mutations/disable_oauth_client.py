from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.auth import service
from schema.auth.mutations.clients import MANAGE_IDENTITIES, OAuthClientInput, OAuthClientPayload
from schema.auth.types import OAuthClient
from schema.errors import Forbidden, NotFound, ValidationError
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes

DisableOAuthClientResult = Annotated[
    OAuthClientPayload | ValidationError | NotFound | Forbidden,
    strawberry.union("DisableOAuthClientResult"),
]


@strawberry.type
class DisableOAuthClient:
    @mutation_field(
        scopes(*MANAGE_IDENTITIES),
        name="disableOAuthClient",
        description="Refuse the client from now on; its tokens already issued expire on their own.",
    )
    async def disable_oauth_client(
        self, info: Info, input: OAuthClientInput
    ) -> DisableOAuthClientResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            client = await session.run_sync(
                lambda s: service.set_client_disabled(s, principal, input.client_id, disabled=True)
            )
            return OAuthClientPayload(client=OAuthClient.from_model(client))

        return await run_mutation(info, work)
