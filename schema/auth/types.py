"""OAuth clients and trusted issuers as operators and organisation admins see them.

Never a secret: a client's secret is shown once, in the payload of the mutation that made it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from alliance.auth import models
from schema.orgs.types import Organisation, WorkingGroup
from schema.relay import Node, to_global_id

OAuthClientAuthMethod = strawberry.enum(
    models.ClientAuthMethod,
    name="OAuthClientAuthMethod",
    description="How a client authenticates at the token endpoint (NONE: a public client).",
)
OAuthGrantType = strawberry.enum(
    models.GrantType,
    name="OAuthGrantType",
    description="An OAuth 2 grant a client may use (JWT_BEARER: RFC 7523 assertions).",
)


@strawberry.type(name="OAuthClient", description="A machine or application of one organisation.")
class OAuthClient(Node):
    id: strawberry.ID
    client_id: str = strawberry.field(description="The OAuth `client_id`.")
    name: str
    scopes: list[str] = strawberry.field(description="The scopes it may request.")
    grant_types: list[OAuthGrantType]  # type: ignore[valid-type]
    redirect_uris: list[str]
    auth_method: OAuthClientAuthMethod  # type: ignore[valid-type]
    enabled: bool
    rate_limit_per_minute: int | None = strawberry.field(
        description="Its own rate limit; null: the instance's default."
    )
    created_at: datetime
    organisation_id: strawberry.Private[uuid.UUID]
    working_group_ids: strawberry.Private[list[uuid.UUID] | None]

    @classmethod
    def from_model(cls, client: models.OAuthClient) -> OAuthClient:
        return cls(
            id=to_global_id("OAuthClient", client.id),
            client_id=client.client_id,
            name=client.name,
            scopes=list(client.scopes),
            grant_types=[models.GrantType(g) for g in client.grant_types],
            redirect_uris=list(client.redirect_uris),
            auth_method=client.token_endpoint_auth_method,
            enabled=not client.disabled,
            rate_limit_per_minute=client.rate_limit_per_minute,
            created_at=client.created_at,
            organisation_id=client.organisation_id,
            working_group_ids=None
            if client.working_group_ids is None
            else [uuid.UUID(g) for g in client.working_group_ids],
        )

    @strawberry.field
    async def organisation(self, info: Info) -> Organisation:
        return Organisation.from_model(
            await info.context.loaders.organisation.load(self.organisation_id)
        )

    @strawberry.field(
        description=(
            "The working groups its tokens may act in; null: every group its organisation "
            "sits in, now and later."
        )
    )
    async def working_groups(self, info: Info) -> list[WorkingGroup] | None:
        if self.working_group_ids is None:
            return None
        groups = await info.context.loaders.working_group.load_many(self.working_group_ids)
        return [WorkingGroup.from_model(g) for g in groups if g is not None]


@strawberry.type(
    description=(
        "A member organisation's identity provider, whose signed JWT assertions (RFC 7523) "
        "vouch for that organisation's people and services."
    )
)
class TrustedIssuer(Node):
    id: strawberry.ID
    issuer: str = strawberry.field(description="The assertions' `iss`.")
    jwks_url: str | None = strawberry.field(description="Where its public keys are fetched.")
    jwks: JSON | None = strawberry.field(description="Its public keys, when given inline.")
    enabled: bool
    created_at: datetime
    organisation_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, trusted: models.TrustedIssuer) -> TrustedIssuer:
        keys: Any = trusted.jwks
        return cls(
            id=to_global_id("TrustedIssuer", trusted.id),
            issuer=trusted.issuer,
            jwks_url=trusted.jwks_uri,
            jwks=keys,
            enabled=not trusted.disabled,
            created_at=trusted.created_at,
            organisation_id=trusted.organisation_id,
        )

    @strawberry.field
    async def organisation(self, info: Info) -> Organisation:
        return Organisation.from_model(
            await info.context.loaders.organisation.load(self.organisation_id)
        )
