"""Shared input and payload of the mutations that act on one existing OAuth client."""

from __future__ import annotations

import strawberry

from alliance.auth.entitlements import OPERATOR_SCOPE, ORG_ADMIN_SCOPE
from schema.auth.types import OAuthClient

MANAGE_IDENTITIES = (OPERATOR_SCOPE, ORG_ADMIN_SCOPE)


@strawberry.input(name="OAuthClientInput")
class OAuthClientInput:
    client_id: str = strawberry.field(description="The OAuth `client_id`.")


@strawberry.type(name="OAuthClientPayload")
class OAuthClientPayload:
    client: OAuthClient
