from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from alliance.auth import service
from alliance.auth.entitlements import OPERATOR_SCOPE, ORG_ADMIN_SCOPE
from schema.auth.types import OAuthClient, TrustedIssuer
from schema.permissions import query_field, scopes
from schema.relay import (
    Connection,
    Node,
    build_connection,
    decode_cursor,
    from_global_id,
    page_size,
)

MANAGE_IDENTITIES = (OPERATOR_SCOPE, ORG_ADMIN_SCOPE)


def _organisation(organisation_id: strawberry.ID | None) -> uuid.UUID | None:
    if organisation_id is None:
        return None
    return from_global_id(organisation_id, "organisationId", "Organisation")[1]


async def resolve_identity_node(info: Info, type_name: str, raw: uuid.UUID) -> Node | None:
    """``node(id:)`` for clients and issuers: null unless the caller may manage them."""
    principal = info.context.principal
    session = info.context.session
    if type_name == "OAuthClient":
        client = await session.run_sync(lambda s: service.client_by_id(s, principal, raw))
        return OAuthClient.from_model(client) if client else None
    if type_name == "TrustedIssuer":
        trusted = await session.run_sync(lambda s: service.issuer_by_id(s, principal, raw))
        return TrustedIssuer.from_model(trusted) if trusted else None
    return None


@strawberry.type
class AuthQuery:
    @query_field(
        scopes(*MANAGE_IDENTITIES),
        name="oauthClients",
        description=(
            "OAuth clients, by client_id (never their secrets). Operators list every "
            "organisation's (or one's); organisation admins their own organisation's only."
        ),
    )
    async def oauth_clients(
        self,
        info: Info,
        organisation_id: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[OAuthClient]:
        session = info.context.session
        limit = page_size(first, info.context.settings.graphql.max_page_size)
        cursor = decode_cursor(after)
        owner = service.listing_scope(info.context.principal, _organisation(organisation_id))
        page = await session.run_sync(
            lambda s: service.page_clients(s, owner, after=cursor, limit=limit)
        )

        async def count() -> int:
            return await session.run_sync(lambda s: service.count_clients(s, owner))

        return build_connection(
            [OAuthClient.from_model(c) for c in page.items],
            [c.client_id for c in page.items],
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            count=count,
        )

    @query_field(
        scopes(*MANAGE_IDENTITIES),
        description=(
            "Member organisations' trusted identity providers, by issuer. Operators list "
            "every organisation's (or one's); organisation admins their own organisation's only."
        ),
    )
    async def trusted_issuers(
        self,
        info: Info,
        organisation_id: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[TrustedIssuer]:
        session = info.context.session
        limit = page_size(first, info.context.settings.graphql.max_page_size)
        cursor = decode_cursor(after)
        owner = service.listing_scope(info.context.principal, _organisation(organisation_id))
        page = await session.run_sync(
            lambda s: service.page_issuers(s, owner, after=cursor, limit=limit)
        )

        async def count() -> int:
            return await session.run_sync(lambda s: service.count_issuers(s, owner))

        return build_connection(
            [TrustedIssuer.from_model(t) for t in page.items],
            [t.issuer for t in page.items],
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            count=count,
        )
