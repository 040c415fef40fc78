"""Managing identities: OAuth clients, local accounts and trusted issuers. The only writers.

Synchronous functions over a sync ``Session`` (async callers use ``run_sync``). Like
every service they validate, raise domain errors and never commit. ``principal`` is
the caller; ``None`` is the local operator at the CLI.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from alliance.auth import credentials, entitlements
from alliance.auth import repository as repo
from alliance.auth.jwks_fetch import JwksFetchError, validated_jwks
from alliance.auth.models import ClientAuthMethod, GrantType, OAuthClient, TrustedIssuer
from alliance.auth.principal import Principal
from alliance.auth.scopes import SCOPES
from alliance.errors import Conflict, Forbidden, NotFound
from alliance.orgs.models import Organisation, Person
from alliance.validation import Checker

MAX_REDIRECT_URIS = 10


def require_operator(principal: Principal | None) -> None:
    if principal is not None and not principal.has_scope(entitlements.OPERATOR_SCOPE):
        raise Forbidden(f"requires the {entitlements.OPERATOR_SCOPE!r} scope")


def _organisation(session: Session, slug: str) -> Organisation:
    found = repo.organisation_by_slug(session, slug)
    if found is None:
        raise NotFound("organisation", slug)
    return found


@dataclass(frozen=True, slots=True)
class ClientData:
    organisation: str  # slug
    name: str
    scopes: Sequence[str]
    grant_types: Sequence[str] = (GrantType.CLIENT_CREDENTIALS.value,)
    working_groups: Sequence[str] | None = None  # slugs; None: all the organisation's groups
    redirect_uris: Sequence[str] = ()
    auth_method: str = ClientAuthMethod.CLIENT_SECRET_BASIC.value
    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = None
    rate_limit_per_minute: int | None = None


@dataclass(frozen=True, slots=True)
class CreatedClient:
    client: OAuthClient
    secret: str | None  # shown once; only its hash is stored


def _check_redirect_uri(check: Checker, uri: str) -> None:
    parts = urlsplit(uri)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.fragment:
        check.fail("redirectUris", "FRAGMENT", f"{uri!r} must not have a fragment")
    elif parts.scheme == "https" and parts.hostname:
        return
    elif parts.scheme == "http" and loopback:
        return
    else:
        check.fail(
            "redirectUris",
            "INSECURE_REDIRECT",
            f"{uri!r} must be https:// (or http:// on a loopback address)",
        )


def create_client(session: Session, principal: Principal | None, data: ClientData) -> CreatedClient:
    require_operator(principal)
    check = Checker()
    name = check.text("name", data.name, max_length=200)
    organisation = _organisation(session, data.organisation)
    grants = [check.choice("grantTypes", g, GrantType) for g in dict.fromkeys(data.grant_types)]
    method = check.choice("authMethod", data.auth_method, ClientAuthMethod)
    scopes = list(dict.fromkeys(data.scopes))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        check.fail("scopes", "UNKNOWN_SCOPE", f"unknown scope(s): {', '.join(unknown)}")
    if not scopes:
        check.fail("scopes", "REQUIRED", "name at least one scope")
    beyond = sorted(
        set(scopes) - set(unknown) - entitlements.organisation_scopes(organisation.kind)
    )
    if beyond:
        check.fail(
            "scopes",
            "NOT_ENTITLED",
            f"{organisation.slug!r} may not hold scope(s): {', '.join(beyond)}",
        )
    if not grants:
        check.fail("grantTypes", "REQUIRED", "name at least one grant type")
    group_ids: list[str] | None = None
    if data.working_groups is not None:
        seats = repo.seats(session, organisation.id)
        missing = [slug for slug in data.working_groups if slug not in seats]
        if missing:
            check.fail(
                "workingGroups",
                "NOT_A_MEMBER",
                f"{organisation.slug!r} has no seat in: {', '.join(missing)}",
            )
        group_ids = [
            str(seats[slug]) for slug in dict.fromkeys(data.working_groups) if slug in seats
        ]
    redirect_uris = list(dict.fromkeys(data.redirect_uris))
    if len(redirect_uris) > MAX_REDIRECT_URIS:
        check.fail("redirectUris", "TOO_MANY", f"at most {MAX_REDIRECT_URIS} redirect URIs")
    for uri in redirect_uris:
        _check_redirect_uri(check, uri)
    if GrantType.AUTHORIZATION_CODE in grants and not redirect_uris:
        check.fail("redirectUris", "REQUIRED", "the authorization_code grant needs a redirect URI")
    if method == ClientAuthMethod.NONE and (
        GrantType.CLIENT_CREDENTIALS in grants or GrantType.JWT_BEARER in grants
    ):
        check.fail(
            "authMethod", "PUBLIC_CLIENT", "a public client (auth method none) can only use "
            "authorization_code and refresh_token",
        )  # fmt: skip
    jwks = None
    if method == ClientAuthMethod.PRIVATE_KEY_JWT:
        if (data.jwks is None) == (data.jwks_uri is None):
            check.fail("jwks", "REQUIRED", "private_key_jwt needs exactly one of jwks or jwksUri")
        if data.jwks is not None:
            try:
                jwks = validated_jwks(data.jwks)
            except JwksFetchError as exc:
                check.fail("jwks", "INVALID_JWKS", str(exc))
        if data.jwks_uri is not None and urlsplit(data.jwks_uri).scheme not in ("https", "http"):
            check.fail("jwksUri", "INVALID_URL", "must be an https:// URL")
    elif data.jwks is not None or data.jwks_uri is not None:
        check.fail("jwks", "UNUSED", "keys are only for the private_key_jwt auth method")
    if data.rate_limit_per_minute is not None and not 1 <= data.rate_limit_per_minute <= 1_000_000:
        check.fail("rateLimitPerMinute", "OUT_OF_RANGE", "must be between 1 and 1000000")
    check.raise_if_any()
    assert method is not None
    assert name is not None
    secret = None
    if method in (ClientAuthMethod.CLIENT_SECRET_BASIC, ClientAuthMethod.CLIENT_SECRET_POST):
        secret = credentials.new_secret()
    client = OAuthClient(
        client_id=credentials.new_client_id(),
        organisation_id=organisation.id,
        name=name,
        secret_hash=credentials.hash_client_secret(secret) if secret else None,
        token_endpoint_auth_method=method,
        grant_types=[g.value for g in grants if g is not None],
        scopes=[s for s in SCOPES if s in scopes],
        working_group_ids=group_ids,
        redirect_uris=redirect_uris,
        jwks=jwks,
        jwks_uri=data.jwks_uri,
        rate_limit_per_minute=data.rate_limit_per_minute,
        disabled=False,
    )
    session.add(client)
    session.flush()
    return CreatedClient(client=client, secret=secret)


def set_client_disabled(
    session: Session, principal: Principal | None, client_id: str, *, disabled: bool = True
) -> OAuthClient:
    require_operator(principal)
    client = repo.client_by_client_id(session, client_id)
    if client is None:
        raise NotFound("client", client_id)
    client.disabled = disabled
    session.flush()
    return client


def list_clients(
    session: Session, principal: Principal | None, organisation: str | None = None
) -> list[tuple[OAuthClient, Organisation]]:
    require_operator(principal)
    org_id = _organisation(session, organisation).id if organisation else None
    found = repo.clients(session, org_id)
    orgs = {c.organisation_id: repo.organisation(session, c.organisation_id) for c in found}
    return [(c, orgs[c.organisation_id]) for c in found if orgs[c.organisation_id] is not None]  # type: ignore[misc]


def set_local_account(
    session: Session,
    principal: Principal | None,
    person_id: uuid.UUID,
    *,
    password: str,
    org_admin: bool,
) -> Person:
    """Give a person a password (argon2-hashed) and, optionally, their organisation's admin role."""
    require_operator(principal)
    found = repo.person(session, person_id)
    if found is None:
        raise NotFound("person", str(person_id))
    check = Checker()
    if len(password) < credentials.MIN_PASSWORD_LENGTH:
        check.fail(
            "password",
            "TOO_SHORT",
            f"must be at least {credentials.MIN_PASSWORD_LENGTH} characters",
        )
    elif len(password) > 1024:
        check.fail("password", "TOO_LONG", "must be at most 1024 characters")
    check.raise_if_any()
    found.password_hash = credentials.hash_password(password)
    found.org_admin = org_admin
    session.flush()
    return found


def add_issuer(
    session: Session,
    principal: Principal | None,
    *,
    organisation: str,
    issuer: str,
    jwks: dict[str, Any] | None = None,
    jwks_uri: str | None = None,
) -> TrustedIssuer:
    """Trust an organisation's identity provider to vouch for its people and services."""
    require_operator(principal)
    owner = _organisation(session, organisation)
    check = Checker()
    issuer_clean = check.text("issuer", issuer, max_length=2000) or ""
    if (jwks is None) == (jwks_uri is None):
        check.fail("jwks", "REQUIRED", "give exactly one of jwks or jwksUri")
    keys = None
    if jwks is not None:
        try:
            keys = validated_jwks(jwks)
        except JwksFetchError as exc:
            check.fail("jwks", "INVALID_JWKS", str(exc))
    if jwks_uri is not None:
        parts = urlsplit(jwks_uri)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            check.fail("jwksUri", "INVALID_URL", "must be an https:// URL")
    check.raise_if_any()
    if repo.issuer_by_url(session, issuer_clean) is not None:
        raise Conflict(f"issuer {issuer_clean!r} is already registered")
    trusted = TrustedIssuer(
        organisation_id=owner.id,
        issuer=issuer_clean,
        jwks=keys,
        jwks_uri=jwks_uri,
        disabled=False,
    )
    session.add(trusted)
    session.flush()
    return trusted
