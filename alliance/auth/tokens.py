"""JWT access tokens shaped per RFC 9068 (``typ: at+jwt``), signed with the instance key."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError

from alliance.auth.keys import ALGORITHM, SigningKeys

TOKEN_TYPE = "at+jwt"


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why (safe to show the caller)."""


@dataclass(frozen=True, slots=True)
class TokenGrant:
    subject: str
    client_id: str
    organisation_id: uuid.UUID
    organisation_slug: str
    scopes: tuple[str, ...]
    person_id: uuid.UUID | None = None
    # The working groups the token may act in (claim ``wg``); None: not restricted by the token.
    working_group_ids: tuple[uuid.UUID, ...] | None = None


def issue_access_token(
    keys: SigningKeys,
    grant: TokenGrant,
    *,
    issuer: str,
    audience: str,
    ttl_seconds: int,
    now: int | None = None,
) -> tuple[str, dict[str, Any]]:
    issued_at = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": grant.subject,
        "aud": audience,
        "exp": issued_at + ttl_seconds,
        "iat": issued_at,
        "jti": uuid.uuid4().hex,
        "client_id": grant.client_id,
        "scope": " ".join(grant.scopes),
        "org": str(grant.organisation_id),
        "org_slug": grant.organisation_slug,
    }
    if grant.person_id is not None:
        claims["person"] = str(grant.person_id)
    if grant.working_group_ids is not None:
        claims["wg"] = [str(g) for g in grant.working_group_ids]
    header = {"alg": ALGORITHM, "typ": TOKEN_TYPE, "kid": keys.kid}
    return jwt.encode(header, claims, keys.current, algorithms=[ALGORITHM]), claims


_REQUIRED = ("iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "org")


def verify_access_token(
    keys: SigningKeys, token: str, *, issuer: str, audience: str, now: int | None = None
) -> dict[str, Any]:
    try:
        decoded = jwt.decode(token, keys.verifying, algorithms=[ALGORITHM])
    except (JoseError, ValueError, TypeError) as exc:
        # TypeError: joserfc trips over headers of the wrong JSON type ({"crit": null});
        # the token comes from anyone, so that is an invalid token (401), not a crash (500).
        raise InvalidToken(
            f"token signature or format is invalid ({exc.__class__.__name__})"
        ) from exc
    if decoded.header.get("typ", "").lower() not in (TOKEN_TYPE, "application/at+jwt"):
        raise InvalidToken("token is not an RFC 9068 access token (typ must be at+jwt)")
    claims = decoded.claims
    missing = [name for name in _REQUIRED if name not in claims]
    if missing:
        raise InvalidToken(f"token lacks required claims: {', '.join(missing)}")
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=30,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": audience},
        exp={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise InvalidToken(f"token rejected: {exc.description or exc.error}") from exc
    try:
        uuid.UUID(str(claims["org"]))
    except ValueError as exc:
        raise InvalidToken("token org claim is not an organisation id") from exc
    if "wg" in claims:
        groups = claims["wg"]
        try:
            if not isinstance(groups, list):
                raise ValueError("not a list")
            for group in groups:
                uuid.UUID(str(group))
        except ValueError as exc:
            raise InvalidToken("token wg claim is not a list of working-group ids") from exc
    return dict(claims)
