"""Managing identities: OAuth clients, local accounts and trusted issuers. The only writers.

Synchronous functions over a sync ``Session`` (async callers use ``run_sync``). Like
every service they validate, raise domain errors and never commit. ``principal`` is
the caller; ``None`` is the local operator at the CLI. Operators (``admin``) manage every
organisation's identities, organisation admins (``org:admin``) their own organisation's.
Every write is audited in the same transaction; secrets never reach the audit log.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from alliance.audit import service as audit
from alliance.auth import credentials, entitlements
from alliance.auth import repository as repo
from alliance.auth.jwks_fetch import JwksFetchError, validated_jwks
from alliance.auth.models import ClientAuthMethod, GrantType, OAuthClient, TrustedIssuer
from alliance.auth.principal import Principal
from alliance.auth.scopes import SCOPES
from alliance.errors import Conflict, Forbidden, NotFound
from alliance.orgs.models import Organisation, Person
from alliance.pagination import Page
from alliance.validation import Checker

MAX_REDIRECT_URIS = 10
MAX_LIST_VALUES = 100
MAX_PASSWORD_LENGTH = 1024
SECRET_METHODS = (ClientAuthMethod.CLIENT_SECRET_BASIC, ClientAuthMethod.CLIENT_SECRET_POST)

# An organisation, by slug (the CLI) or by id (the API).
OrganisationRef = str | uuid.UUID


def require_operator(principal: Principal | None) -> None:
    if principal is not None and not principal.has_scope(entitlements.OPERATOR_SCOPE):
        raise Forbidden(f"requires the {entitlements.OPERATOR_SCOPE!r} scope")


def is_operator(principal: Principal | None) -> bool:
    return principal is None or principal.has_scope(entitlements.OPERATOR_SCOPE)


def require_manager(principal: Principal | None, organisation_id: uuid.UUID) -> None:
    """Operators manage every organisation's identities; organisation admins their own."""
    if is_operator(principal):
        return
    assert principal is not None
    if principal.has_scope(entitlements.ORG_ADMIN_SCOPE):
        if principal.organisation_id == organisation_id:
            return
        raise Forbidden(
            "organisation admins manage their own organisation's identities only; another "
            f"organisation's requires the {entitlements.OPERATOR_SCOPE!r} scope"
        )
    raise Forbidden(
        f"requires the {entitlements.ORG_ADMIN_SCOPE!r} or {entitlements.OPERATOR_SCOPE!r} scope"
    )


def _organisation(session: Session, ref: OrganisationRef) -> Organisation:
    found = (
        repo.organisation(session, ref)
        if isinstance(ref, uuid.UUID)
        else repo.organisation_by_slug(session, ref)
    )
    if found is None:
        raise NotFound("organisation", str(ref))
    return found


def managed_organisation(
    session: Session, principal: Principal | None, ref: OrganisationRef
) -> Organisation:
    """The organisation ``principal`` may manage, or Forbidden (checked before it is looked
    up when it is named by id, so a refusal tells nothing of what exists)."""
    if isinstance(ref, uuid.UUID):
        require_manager(principal, ref)
        return _organisation(session, ref)
    found = _organisation(session, ref)
    require_manager(principal, found.id)
    return found


def listing_scope(
    principal: Principal | None, organisation_id: uuid.UUID | None
) -> uuid.UUID | None:
    """Whose identities ``principal`` lists: operators anyone's (None: everyone's),
    organisation admins their own organisation's only."""
    if organisation_id is None and not is_operator(principal):
        assert principal is not None
        organisation_id = principal.organisation_id
    if organisation_id is not None:
        require_manager(principal, organisation_id)
    return organisation_id


def _audit(session: Session, action: str, target_kind: str, target_id: str, **detail: Any) -> None:
    audit.record(
        session, action=action, target_kind=target_kind, target_id=target_id, detail=detail
    )


@dataclass(frozen=True, slots=True)
class ClientData:
    organisation: OrganisationRef
    name: str
    scopes: Sequence[str]
    grant_types: Sequence[str] = (GrantType.CLIENT_CREDENTIALS.value,)
    # Slugs or ids; None: all the organisation's groups, now and later.
    working_groups: Sequence[str | uuid.UUID] | None = None
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
    """A client never holds more than its organisation is entitled to: scopes its kind may
    hold, working groups it sits in (and ``admin`` only from an operator)."""
    organisation = managed_organisation(session, principal, data.organisation)
    check = Checker()
    name = check.text("name", data.name, max_length=200)
    for field, values in (
        ("scopes", data.scopes),
        ("grantTypes", data.grant_types),
        ("workingGroups", data.working_groups or ()),
    ):
        if len(values) > MAX_LIST_VALUES:
            check.fail(field, "TOO_MANY", f"at most {MAX_LIST_VALUES} values")
    check.raise_if_any()
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
    elif entitlements.OPERATOR_SCOPE in scopes and not is_operator(principal):
        check.fail(
            "scopes",
            "NOT_ENTITLED",
            f"only an operator may give a client the {entitlements.OPERATOR_SCOPE!r} scope",
        )
    if not grants:
        check.fail("grantTypes", "REQUIRED", "name at least one grant type")
    group_ids: list[str] | None = None
    if data.working_groups is not None:
        seats = repo.seats(session, organisation.id)
        seat_ids = {str(gid): gid for gid in seats.values()}

        def seat_of(ref: str | uuid.UUID) -> uuid.UUID | None:
            return seat_ids.get(str(ref)) if isinstance(ref, uuid.UUID) else seats.get(ref)

        missing_refs = [ref for ref in data.working_groups if seat_of(ref) is None]
        named = {
            str(g.id): g.slug
            for g in repo.working_groups_by_ids(
                session, [r for r in missing_refs if isinstance(r, uuid.UUID)]
            )
        }
        missing = [named.get(str(ref), str(ref)) for ref in missing_refs]
        if missing:
            check.fail(
                "workingGroups",
                "NOT_A_MEMBER",
                f"{organisation.slug!r} has no seat in: {', '.join(missing)}",
            )
        group_ids = list(
            dict.fromkeys(
                str(gid) for gid in (seat_of(ref) for ref in data.working_groups) if gid is not None
            )
        )
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
            check.fail("jwks", "REQUIRED", "private_key_jwt needs exactly one of jwks or jwksUrl")
        if data.jwks is not None:
            try:
                jwks = validated_jwks(data.jwks)
            except JwksFetchError as exc:
                check.fail("jwks", "INVALID_JWKS", str(exc))
        if data.jwks_uri is not None and urlsplit(data.jwks_uri).scheme not in ("https", "http"):
            check.fail("jwksUrl", "INVALID_URL", "must be an https:// URL")
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
    _audit(
        session,
        "oauth_client.create",
        "oauth_client",
        client.client_id,
        organisation_id=organisation.id,
        scopes=client.scopes,
        grant_types=client.grant_types,
        working_group_ids=client.working_group_ids,
        auth_method=client.token_endpoint_auth_method.value,
    )
    return CreatedClient(client=client, secret=secret)


def _managed_client(session: Session, principal: Principal | None, client_id: str) -> OAuthClient:
    check = Checker()
    client_id = check.text("clientId", client_id, max_length=64) or ""
    check.raise_if_any()
    client = repo.client_by_client_id(session, client_id)
    if client is None:
        raise NotFound("client", client_id)
    require_manager(principal, client.organisation_id)
    return client


def set_client_disabled(
    session: Session, principal: Principal | None, client_id: str, *, disabled: bool = True
) -> OAuthClient:
    """Refuse (or accept again) a client; its tokens already issued expire on their own."""
    client = _managed_client(session, principal, client_id)
    client.disabled = disabled
    session.flush()
    _audit(
        session,
        f"oauth_client.{'disable' if disabled else 'enable'}",
        "oauth_client",
        client.client_id,
        organisation_id=client.organisation_id,
    )
    return client


def rotate_client_secret(
    session: Session, principal: Principal | None, client_id: str
) -> CreatedClient:
    """A new secret, shown once; the old one stops working with this commit."""
    client = _managed_client(session, principal, client_id)
    if client.token_endpoint_auth_method not in SECRET_METHODS:
        raise Conflict(
            f"client {client_id!r} authenticates with "
            f"{client.token_endpoint_auth_method.value} and has no secret"
        )
    secret = credentials.new_secret()
    client.secret_hash = credentials.hash_client_secret(secret)
    session.flush()
    _audit(
        session,
        "oauth_client.rotate_secret",
        "oauth_client",
        client.client_id,
        organisation_id=client.organisation_id,
    )
    return CreatedClient(client=client, secret=secret)


def may_manage(principal: Principal | None, organisation_id: uuid.UUID) -> bool:
    try:
        require_manager(principal, organisation_id)
    except Forbidden:
        return False
    return True


def client_by_id(
    session: Session, principal: Principal | None, id: uuid.UUID
) -> OAuthClient | None:
    """One client by its row id, or None when absent or not the caller's to manage."""
    found = session.get(OAuthClient, id)
    return found if found is not None and may_manage(principal, found.organisation_id) else None


def issuer_by_id(
    session: Session, principal: Principal | None, id: uuid.UUID
) -> TrustedIssuer | None:
    found = repo.issuer(session, id)
    return found if found is not None and may_manage(principal, found.organisation_id) else None


def page_clients(
    session: Session, organisation_id: uuid.UUID | None, *, after: str | None, limit: int
) -> Page[OAuthClient]:
    """A page of clients by ``client_id``; ``organisation_id`` comes from :func:`listing_scope`."""
    return repo.page_clients(session, organisation_id, after=after, limit=limit)


def count_clients(session: Session, organisation_id: uuid.UUID | None) -> int:
    return repo.count_clients(session, organisation_id)


def page_issuers(
    session: Session, organisation_id: uuid.UUID | None, *, after: str | None, limit: int
) -> Page[TrustedIssuer]:
    return repo.page_issuers(session, organisation_id, after=after, limit=limit)


def count_issuers(session: Session, organisation_id: uuid.UUID | None) -> int:
    return repo.count_issuers(session, organisation_id)


def list_clients(
    session: Session, principal: Principal | None, organisation: str | None = None
) -> list[tuple[OAuthClient, Organisation]]:
    org_id = listing_scope(
        principal, _organisation(session, organisation).id if organisation else None
    )
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
    found = repo.person(session, person_id)
    if found is None:
        raise NotFound("person", str(person_id))
    require_manager(principal, found.organisation_id)
    check = Checker()
    check_password(check, password, email=found.email)
    check.raise_if_any()
    # The local operator at the CLI is the way back in, so only callers through the API
    # are held here to keeping an enabled admin (alliance.orgs.members holds everyone to it).
    if (
        principal is not None
        and found.org_admin
        and not org_admin
        and not found.disabled
        and repo.count_enabled_admins(session, found.organisation_id) <= 1
    ):
        raise Conflict(
            "an organisation must keep at least one enabled admin; make another person an "
            "admin first"
        )
    found.password_hash = credentials.hash_password(password)
    found.org_admin = org_admin
    session.flush()
    _audit(
        session,
        "person.set_local_account",
        "person",
        str(found.id),
        organisation_id=found.organisation_id,
        org_admin=org_admin,
    )
    return found


def check_password(check: Checker, password: str, *, email: str | None = None) -> None:
    """A password people can be held to: long enough, not one character repeated, not the
    sign-in name."""
    if not password:
        check.fail("password", "REQUIRED", "must not be empty")
    elif len(password) < credentials.MIN_PASSWORD_LENGTH:
        check.fail(
            "password",
            "TOO_SHORT",
            f"must be at least {credentials.MIN_PASSWORD_LENGTH} characters",
        )
    elif len(password) > MAX_PASSWORD_LENGTH:
        check.fail("password", "TOO_LONG", f"must be at most {MAX_PASSWORD_LENGTH} characters")
    elif len(set(password)) < 4 or (email and password.strip().lower() == email.lower()):
        check.fail("password", "WEAK", "is too easy to guess: mix more different characters")


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
    owner = managed_organisation(session, principal, organisation)
    if jwks is not None:
        jwks = as_key_set(jwks)
    check = Checker()
    issuer_clean = check.text("issuer", issuer, max_length=2000) or ""
    if (jwks is None) == (jwks_uri is None):
        check.fail("jwks", "REQUIRED", "give exactly one of jwks or jwksUrl")
    keys = None
    if jwks is not None:
        try:
            keys = validated_jwks(jwks)
        except JwksFetchError as exc:
            check.fail("jwks", "INVALID_JWKS", str(exc))
    if jwks_uri is not None:
        parts = urlsplit(jwks_uri)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            check.fail("jwksUrl", "INVALID_URL", "must be an https:// URL")
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
    _audit(
        session,
        "trusted_issuer.add",
        "trusted_issuer",
        str(trusted.id),
        organisation_id=owner.id,
        issuer=trusted.issuer,
        jwks_uri=jwks_uri,
    )
    return trusted


def remove_issuer(
    session: Session, principal: Principal | None, issuer_id: uuid.UUID
) -> TrustedIssuer:
    """Stop trusting an issuer; assertions it signs are refused from this commit on."""
    found = repo.issuer(session, issuer_id)
    if found is None:
        raise NotFound("trusted issuer", str(issuer_id))
    require_manager(principal, found.organisation_id)
    session.delete(found)
    session.flush()
    _audit(
        session,
        "trusted_issuer.remove",
        "trusted_issuer",
        str(found.id),
        organisation_id=found.organisation_id,
        issuer=found.issuer,
    )
    return found


def as_key_set(document: Any) -> Any:
    """A single JWK is a JWKS of one."""
    if isinstance(document, dict) and "keys" not in document and "kty" in document:
        return {"keys": [document]}
    return document
