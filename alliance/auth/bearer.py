"""Turning an ``Authorization`` header into a principal."""

from __future__ import annotations

from alliance.auth.keys import SigningKeys
from alliance.auth.principal import Principal
from alliance.auth.tokens import InvalidToken, verify_access_token


def principal_from_header(
    keys: SigningKeys, authorization: str | None, *, issuer: str, audience: str
) -> Principal | None:
    """None without a header; InvalidToken for a header that is present but not trustworthy."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("the Authorization header must be 'Bearer <access token>'")
    claims = verify_access_token(keys, token.strip(), issuer=issuer, audience=audience)
    return Principal.from_claims(claims)
