from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from alliance.auth import models, service
from alliance.errors import FieldProblem, InvalidInput
from schema.auth.mutations.clients import MANAGE_IDENTITIES
from schema.auth.types import OAuthClient, OAuthClientAuthMethod, OAuthGrantType
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes
from schema.relay import from_global_id


@strawberry.input(name="CreateOAuthClientInput")
class CreateOAuthClientInput:
    organisation_id: strawberry.ID
    name: str
    scopes: list[str] = strawberry.field(description="Operation scopes it may request.")
    grant_types: list[OAuthGrantType] = strawberry.field(  # type: ignore[valid-type]
        default_factory=lambda: [models.GrantType.CLIENT_CREDENTIALS]
    )
    working_groups: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description=(
            "Ids of working groups its tokens may act in, all seats of its organisation; "
            "null: every group the organisation sits in, now and later."
        ),
    )
    redirect_uris: list[str] = strawberry.field(default_factory=list)
    auth_method: OAuthClientAuthMethod = models.ClientAuthMethod.CLIENT_SECRET_BASIC  # type: ignore[valid-type]
    jwks: JSON | None = strawberry.field(
        default=None, description="Its public keys (PRIVATE_KEY_JWT), a JWKS."
    )
    jwks_url: str | None = strawberry.field(
        default=None, description="Where its public keys are published (PRIVATE_KEY_JWT)."
    )
    rate_limit_per_minute: int | None = None


@strawberry.type(name="CreateOAuthClientPayload")
class CreateOAuthClientPayload:
    client: OAuthClient
    client_secret: str | None = strawberry.field(
        description=(
            "Shown this once; only its hash is kept. Null for clients that authenticate "
            "with keys (PRIVATE_KEY_JWT) or not at all (NONE)."
        )
    )


CreateOAuthClientResult = Annotated[
    CreateOAuthClientPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("CreateOAuthClientResult"),
]


def _client_data(input: CreateOAuthClientInput) -> service.ClientData:
    """Decode the ids, reporting every bad one at once."""
    problems: list[FieldProblem] = []
    try:
        org_id = from_global_id(input.organisation_id, "organisationId", "Organisation")[1]
    except InvalidInput as exc:
        problems += exc.problems
    groups = None
    if input.working_groups is not None:
        groups = []
        for index, global_id in enumerate(input.working_groups):
            try:
                groups.append(from_global_id(global_id, expected="WorkingGroup")[1])
            except InvalidInput as exc:
                problems += [
                    FieldProblem(("workingGroups", str(index)), p.code, p.message)
                    for p in exc.problems
                ]
    if problems:
        raise InvalidInput(problems)
    return service.ClientData(
        organisation=org_id,
        name=input.name,
        scopes=input.scopes,
        grant_types=input.grant_types,
        working_groups=groups,
        redirect_uris=input.redirect_uris,
        auth_method=input.auth_method,
        jwks=input.jwks,
        jwks_uri=input.jwks_url,
        rate_limit_per_minute=input.rate_limit_per_minute,
    )


@strawberry.type
class CreateOAuthClient:
    @mutation_field(
        scopes(*MANAGE_IDENTITIES),
        name="createOAuthClient",
        description=(
            "Register an OAuth client of an organisation (operators: any; organisation admins: "
            "their own), never with more than the organisation is entitled to."
        ),
    )
    async def create_oauth_client(
        self, info: Info, input: CreateOAuthClientInput
    ) -> CreateOAuthClientResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            data = _client_data(input)
            created = await session.run_sync(lambda s: service.create_client(s, principal, data))
            return CreateOAuthClientPayload(
                client=OAuthClient.from_model(created.client), client_secret=created.secret
            )

        return await run_mutation(info, work)
