"""The OAuth 2 authorization server, on authlib's framework-agnostic core.

authlib is synchronous, so each OAuth request runs in a worker thread with a sync
session of its own (:meth:`AuthorizationServer.run`), committed in exactly one place
when the request ends, whether the grant succeeded or not: a refused grant still
writes its audit entry, and a replayed refresh token still revokes its family.

Grants: client credentials; authorization code with PKCE (S256 only) and rotating
refresh tokens; JWT bearer assertions (RFC 7523) from a member organisation's
identity provider. Client authentication: ``client_secret_basic``,
``client_secret_post``, ``private_key_jwt`` and ``none`` (public clients, PKCE).
Every token is limited by :mod:`alliance.auth.entitlements`.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from authlib.oauth2 import rfc6749
from authlib.oauth2.rfc6749 import (
    AuthorizationServer as AuthlibAuthorizationServer,
)
from authlib.oauth2.rfc6749 import (
    ClientMixin,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Request,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    RefreshTokenGrant,
)
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion, JWTBearerGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session, sessionmaker

from alliance.audit.service import record as record_audit_entry
from alliance.auth import credentials, entitlements
from alliance.auth import repository as repo
from alliance.auth.jwks_fetch import FetchPolicy, JwksFetchError, fetch_jwks
from alliance.auth.keys import KeyRing, ReloadingKeyRing
from alliance.auth.models import AuthorizationCode, GrantType, OAuthClient, RefreshToken
from alliance.auth.models import TrustedIssuer as TrustedIssuerRow
from alliance.auth.scopes import SCOPES
from alliance.auth.tokens import InvalidToken, TokenGrant, issue_access_token, verify_access_token
from alliance.config import Settings
from alliance.db import AllianceSession, utcnow
from alliance.orgs.models import Organisation, Person

T = TypeVar("T")

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
PUBLIC_CLIENT_AUTH_METHODS = [*CLIENT_AUTH_METHODS, "none"]
ASSERTION_ALGORITHMS = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
]  # fmt: skip
MAX_ASSERTION_LIFETIME_SECONDS = 3600
# A missing ``kid`` in a member's keys may mean they rotated; look again, but not too often.
JWKS_REFETCH_MIN_SECONDS = 60

_session: ContextVar[Session] = ContextVar("alliance_oauth_session")


def current_session() -> Session:
    """The session of the OAuth request this thread is serving."""
    try:
        return _session.get()
    except LookupError:
        raise RuntimeError("no OAuth request is being served in this context") from None


_FORBIDDEN_IN_DESCRIPTIONS = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


def describe(text: str) -> str:
    """RFC 6749 allows only some ASCII in ``error_description``."""
    return _FORBIDDEN_IN_DESCRIPTIONS.sub("?", text)[:500]


# --- requests and responses -------------------------------------------------------------------


class Values(dict[str, str]):
    """First value of each parameter, plus every value (to spot repeated parameters).
    Parameters sent without a value are treated as omitted (RFC 6749 section 3.1)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        kept = [(k, v) for k, v in pairs if v != ""]
        super().__init__()
        self.lists: dict[str, list[str]] = {}
        for key, value in kept:
            self.setdefault(key, value)
            self.lists.setdefault(key, []).append(value)


class _Payload(OAuth2Payload):
    def __init__(self, values: Values) -> None:
        self._values = values

    @property
    def data(self) -> Values:
        return self._values

    @property
    def datalist(self) -> dict[str, list[str]]:  # type: ignore[override]
        return self._values.lists


class AllianceRequest(OAuth2Request):
    """An HTTP request as authlib sees it; POST parameters come from the form body only, so
    credentials never travel in URLs. Also carries what the grant decided on the way."""

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Any,
        args: list[tuple[str, str]],
        form: list[tuple[str, str]],
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self._args = Values(args)
        self._form = Values(form)
        self.payload = _Payload(self._form if method == "POST" else self._args)
        self.granted: entitlements.Granted | None = None
        self.organisation: Organisation | None = None
        self.person: Person | None = None
        self.subject: str | None = None
        self.token_client_id: str | None = None
        self.refresh_family: tuple[uuid.UUID, datetime] | None = None

    @property
    def args(self) -> Values:
        return self._args

    @property
    def form(self) -> Values:
        return self._form


@dataclass(frozen=True, slots=True)
class OAuthResponse:
    status: int
    body: dict[str, Any] | str
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def location(self) -> str | None:
        return next((v for k, v in self.headers if k.lower() == "location"), None)


# --- clients as authlib sees them -------------------------------------------------------------


class RegisteredClient(ClientMixin):
    def __init__(self, row: OAuthClient, organisation: Organisation) -> None:
        self.row = row
        self.organisation = organisation

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        # Only an unambiguous default: with several registered, the request must name one.
        return self.row.redirect_uris[0] if len(self.row.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        ceiling = entitlements.Ceiling(
            scopes=entitlements.client_scopes(self.row.scopes, self.organisation.kind),
            working_groups={},
        )
        requested = entitlements.parse_scope(scope)
        above = [s for s in requested.scopes if s not in ceiling.scopes]
        if above:
            raise InvalidScopeError(
                describe(f"scope(s) not allowed for this client: {', '.join(above)}")
            )
        return scope or ""

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return credentials.check_client_secret(self.row.secret_hash, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.row.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and self.check_grant_type(GrantType.AUTHORIZATION_CODE)

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.row.grant_types


class IssuerClient(ClientMixin):
    """A member organisation's identity provider, standing where authlib expects a client."""

    def __init__(self, row: TrustedIssuerRow, organisation: Organisation) -> None:
        self.row = row
        self.organisation = organisation

    def get_client_id(self) -> str:
        return self.row.issuer

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == GrantType.JWT_BEARER


@dataclass
class CodeRecord:
    row: AuthorizationCode

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    @property
    def code_challenge(self) -> str:
        return self.row.code_challenge

    @property
    def code_challenge_method(self) -> str:
        return self.row.code_challenge_method


@dataclass
class TokenRecord:
    """An access token (verified claims) or a refresh token (its row), for introspection and
    revocation."""

    kind: str  # "access_token" or "refresh_token"
    client_id: str
    organisation_id: uuid.UUID
    scope: str
    expires_at: int
    revoked: bool
    claims: dict[str, Any] | None = None
    refresh: RefreshToken | None = None

    def check_client(self, client: RegisteredClient) -> bool:
        if self.client_id == client.row.client_id:
            return True
        # The operator, or an organisation's administrator for its own tokens, may end them
        # too: a token issued on an assertion (jwt-bearer) has no client to do it.
        if self.kind == "access_token":
            if entitlements.OPERATOR_SCOPE in client.row.scopes:
                return True
            return (
                entitlements.ORG_ADMIN_SCOPE in client.row.scopes
                and client.row.organisation_id == self.organisation_id
            )
        return False

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return self.expires_at <= time.time()

    def is_revoked(self) -> bool:
        return self.revoked


# --- grants -----------------------------------------------------------------------------------


class _Issuing:
    """Tokens come from the server's generator, from what the grant decided on the request."""

    request: AllianceRequest
    server: AuthorizationServer

    def generate_token(
        self,
        user: Any = None,
        scope: str | None = None,
        grant_type: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        return self.server.issue(self.request, include_refresh_token=include_refresh_token)


def _granted(request: AllianceRequest, scope: str | None, ceiling: entitlements.Ceiling) -> None:
    try:
        request.granted = entitlements.decide(scope, ceiling)
    except entitlements.ScopeRefused as exc:
        raise InvalidScopeError(describe(str(exc))) from exc


class ClientCredentials(_Issuing, ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def validate_requested_scope(self) -> None:
        client: RegisteredClient = self.request.client
        session = current_session()
        self.request.organisation = client.organisation
        self.request.subject = client.row.client_id
        self.request.token_client_id = client.row.client_id
        ceiling = self.server.ceiling(session, client.organisation, client.row, None)
        _granted(self.request, self.request.payload.scope, ceiling)


class S256CodeChallenge(CodeChallenge):
    """PKCE, required on every authorization request, S256 only (``plain`` is refused)."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge (S256)")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256 (plain is not accepted)")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeFlow(_Issuing, AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_CLIENT_AUTH_METHODS

    def save_authorization_code(self, code: str, request: AllianceRequest) -> None:
        assert request.granted is not None
        assert request.user is not None
        client: RegisteredClient = request.client
        redirect_uri = request.payload.redirect_uri or client.get_default_redirect_uri()
        current_session().add(
            AuthorizationCode(
                code_hash=credentials.token_digest(code),
                client_id=client.row.id,
                person_id=request.user.id,
                redirect_uri=redirect_uri,
                scope=request.granted.scope_string,
                code_challenge=request.payload.data["code_challenge"],
                code_challenge_method="S256",
                expires_at=utcnow()
                + timedelta(seconds=self.server.settings.oauth.code_ttl_seconds),
                used=False,
            )
        )

    def query_authorization_code(self, code: str, client: RegisteredClient) -> CodeRecord | None:
        session = current_session()
        row = repo.code_by_digest(session, credentials.token_digest(code))
        if row is None or row.client_id != client.row.id:
            return None
        if not repo.claim_code(session, row.id):
            # A code used twice was probably stolen: end whatever the first use started.
            repo.revoke_family(session, row.id, utcnow())
            self.server.audit(
                action="token.code_reuse",
                outcome="denied",
                client_id=client.row.client_id,
                organisation_id=client.organisation.id,
                person_id=row.person_id,
                detail={"family_id": str(row.id)},
            )
            return None
        if row.expires_at <= utcnow():
            return None
        return CodeRecord(row)

    def delete_authorization_code(self, authorization_code: CodeRecord) -> None:
        """Already marked used when it was claimed; the row stays (until purged) so that a
        second use is recognised as reuse rather than as an unknown code."""
        authorization_code.row.used = True

    def authenticate_user(self, authorization_code: CodeRecord) -> Person | None:
        session = current_session()
        client: RegisteredClient = self.request.client
        person = repo.person(session, authorization_code.row.person_id)
        if person is None or person.disabled:
            return None
        organisation = repo.organisation(session, person.organisation_id)
        if organisation is None:
            return None
        self.request.organisation = organisation
        self.request.person = person
        self.request.subject = str(person.id)
        self.request.token_client_id = client.row.client_id
        ceiling = self.server.ceiling(session, organisation, client.row, person)
        # What the person consented to, less anything lost since (a seat, a role).
        _granted(self.request, None, ceiling.narrowed_to(authorization_code.row.scope))
        self.request.refresh_family = (
            authorization_code.row.id,
            utcnow() + timedelta(seconds=self.server.settings.oauth.refresh_ttl_seconds),
        )
        return person


class RotatingRefreshToken(_Issuing, RefreshTokenGrant):
    """Each refresh token works once and is replaced by a new one of the same family; using
    a rotated one again revokes the whole family (someone else holds a copy)."""

    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> TokenRecord | None:
        session = current_session()
        client: RegisteredClient = self.request.client
        row = repo.refresh_by_digest(session, credentials.token_digest(refresh_token))
        if row is None or row.client_id != client.row.id:
            return None
        if row.rotated_at is not None and row.revoked_at is None:
            self._reuse(row)
            return None
        if row.revoked_at is not None or row.expires_at <= utcnow():
            return None
        return TokenRecord(
            kind="refresh_token",
            client_id=client.row.client_id,
            organisation_id=row.organisation_id,
            scope=row.scope,
            expires_at=int(row.expires_at.timestamp()),
            revoked=False,
            refresh=row,
        )

    def _reuse(self, row: RefreshToken) -> None:
        ended = repo.revoke_family(current_session(), row.family_id, utcnow())
        self.server.audit(
            action="token.refresh_reuse",
            outcome="denied",
            client_id=self.request.client.row.client_id,
            organisation_id=row.organisation_id,
            person_id=row.person_id,
            detail={"family_id": str(row.family_id), "revoked": ended},
        )

    def authenticate_user(self, refresh_token: TokenRecord) -> Person:
        session = current_session()
        row = refresh_token.refresh
        assert row is not None
        client: RegisteredClient = self.request.client
        person = repo.person(session, row.person_id)
        organisation = repo.organisation(session, row.organisation_id)
        if person is None or person.disabled or organisation is None:
            raise InvalidGrantError("the person of this refresh token can no longer sign in")
        self.request.organisation = organisation
        self.request.person = person
        self.request.subject = str(person.id)
        self.request.token_client_id = client.row.client_id
        self.request.refresh_family = (row.family_id, row.expires_at)
        ceiling = self.server.ceiling(session, organisation, client.row, person)
        _granted(self.request, self.request.payload.scope, ceiling.narrowed_to(row.scope))
        return person

    def revoke_old_credential(self, refresh_token: TokenRecord) -> None:
        row = refresh_token.refresh
        assert row is not None
        if not repo.claim_refresh_token(current_session(), row.id, utcnow()):
            # Another request rotated it meanwhile: the same token was used twice.
            self._reuse(row)
            raise InvalidGrantError("the refresh token was already used")


class MemberAssertion(_Issuing, JWTBearerGrant):
    """RFC 7523: a member organisation's identity provider vouches for one of its people
    (``sub`` is their e-mail address) or services (``sub`` is a client_id of that
    organisation). The token is limited to what that organisation is entitled to."""

    def get_audiences(self) -> list[str]:
        return [self.server.token_endpoint, self.server.issuer]

    def resolve_issuer_client(self, issuer: str) -> IssuerClient:
        session = current_session()
        row = repo.issuer_by_url(session, issuer)
        if row is None or row.disabled:
            raise InvalidGrantError("the assertion's issuer is not trusted here")
        organisation = repo.organisation(session, row.organisation_id)
        if organisation is None:
            raise InvalidGrantError("the assertion's issuer is not trusted here")
        return IssuerClient(row, organisation)

    def process_assertion_claims(self, assertion: str) -> dict[str, Any]:
        headers, unverified = self.extract_assertion(assertion)
        issuer = unverified.get("iss")
        if not isinstance(issuer, str):
            raise InvalidGrantError("the assertion has no iss claim")
        client = self.resolve_issuer_client(issuer)
        keys = self.server.issuer_keys(client.row, kid=headers.get("kid"))
        try:
            token = jwt.decode(assertion, keys, algorithms=ASSERTION_ALGORITHMS)
        except (JoseError, ValueError, TypeError) as exc:
            raise InvalidGrantError(
                describe(f"the assertion signature is not valid ({exc.__class__.__name__})")
            ) from exc
        self.verify_claims(token.claims)
        self.request.client = client
        return dict(token.claims)

    def validate_token_request(self) -> None:
        assertion = self.request.form.get("assertion")
        if not assertion:
            raise InvalidRequestError("missing assertion")
        claims = self.process_assertion_claims(assertion)
        issuer: IssuerClient = self.request.client
        subject, jti, expires = claims.get("sub"), claims.get("jti"), claims.get("exp")
        if not isinstance(subject, str) or not subject:
            raise InvalidGrantError("the assertion has no sub claim")
        if not isinstance(jti, str) or not jti:
            raise InvalidGrantError("the assertion has no jti claim")
        if not isinstance(expires, int) or expires > time.time() + MAX_ASSERTION_LIFETIME_SECONDS:
            raise InvalidGrantError("the assertion must expire within an hour")
        session = current_session()
        replay_key = hashlib.sha256(f"{issuer.row.issuer}\x00{jti}".encode()).hexdigest()
        if not repo.spend_assertion(
            session, replay_key, datetime.fromtimestamp(expires, utcnow().tzinfo)
        ):
            raise InvalidGrantError("the assertion was already used")
        organisation = issuer.organisation
        self.request.organisation = organisation
        if "@" in subject:
            person = repo.person_by_email(session, subject)
            if person is None or person.organisation_id != organisation.id or person.disabled:
                raise InvalidGrantError(
                    describe(f"sub is not a person of {organisation.slug} who may sign in")
                )
            self.request.person = person
            self.request.user = person
            self.request.subject = str(person.id)
            self.request.token_client_id = issuer.row.issuer
            ceiling = self.server.ceiling(session, organisation, None, person)
        else:
            service = repo.client_by_client_id(session, subject)
            if service is None or service.organisation_id != organisation.id or service.disabled:
                raise InvalidGrantError(
                    describe(f"sub is not a service client of {organisation.slug}")
                )
            if GrantType.JWT_BEARER not in service.grant_types:
                raise UnauthorizedClientError(
                    "this service client may not be vouched for by assertion (jwt-bearer)"
                )
            self.request.subject = service.client_id
            self.request.token_client_id = service.client_id
            ceiling = self.server.ceiling(session, organisation, service, None)
        _granted(self.request, self.request.payload.scope, ceiling)


class PrivateKeyJWT(JWTBearerClientAssertion):
    """``private_key_jwt`` client authentication: the client signs an assertion with its key."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, server: AuthorizationServer) -> None:
        super().__init__(validate_jti=True, leeway=30)
        self.server = server

    def get_audiences(self) -> list[str]:
        return [self.server.token_endpoint, self.server.issuer, *self.server.other_endpoints]

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        key = hashlib.sha256(f"client:{claims['sub']}\x00{jti}".encode()).hexdigest()
        expires = datetime.fromtimestamp(int(claims["exp"]), utcnow().tzinfo)
        return repo.spend_assertion(current_session(), key, expires)

    def resolve_client_public_key(self, client: RegisteredClient) -> KeySet:
        if client.row.jwks:
            return KeySet.import_key_set(client.row.jwks)
        if client.row.jwks_uri:
            return KeySet.import_key_set(self.server.client_jwks(client.row.jwks_uri))
        raise InvalidClientError(description="the client has no keys registered")


# --- introspection and revocation -------------------------------------------------------------


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenRecord | None:
        return self.server.find_token(token_string)

    def check_permission(
        self, token: TokenRecord, client: RegisteredClient, request: AllianceRequest
    ) -> bool:
        if token.kind == "refresh_token":
            return token.client_id == client.row.client_id
        return (
            token.organisation_id == client.row.organisation_id
            or entitlements.OPERATOR_SCOPE in client.row.scopes
        )

    def introspect_token(self, token: TokenRecord) -> dict[str, Any]:
        if token.claims is not None:
            claims = token.claims
            payload = {
                key: claims[key]
                for key in ("scope", "client_id", "sub", "exp", "iat", "iss", "aud", "jti")
                if key in claims
            }
            payload.update(token_type="Bearer", org=claims["org"])
            if "wg" in claims:
                payload["wg"] = claims["wg"]
            return payload
        return {
            "scope": token.scope,
            "client_id": token.client_id,
            "exp": token.expires_at,
            "token_type": "refresh_token",
        }


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = PUBLIC_CLIENT_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenRecord | None:
        return self.server.find_token(token_string)

    def revoke_token(self, token: TokenRecord, request: AllianceRequest) -> None:
        session = current_session()
        now = utcnow()
        if token.refresh is not None:
            repo.revoke_family(session, token.refresh.family_id, now)
        elif token.claims is not None:
            repo.revoke_jti(
                session,
                str(token.claims["jti"]),
                datetime.fromtimestamp(token.expires_at, now.tzinfo) + timedelta(minutes=5),
            )
        self.server.audit(
            action="token.revoked",
            client_id=request.client.row.client_id,
            organisation_id=token.organisation_id,
            target_kind=token.kind,
            target_id=str(token.claims["jti"]) if token.claims else str(token.refresh.id),  # type: ignore[union-attr]
        )


# --- the server -------------------------------------------------------------------------------


class AuthorizationServer(AuthlibAuthorizationServer):
    def __init__(
        self,
        settings: Settings,
        keys: KeyRing | ReloadingKeyRing,
        sessions: sessionmaker[AllianceSession],
    ) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.settings = settings
        self.keys = keys
        self.sessions = sessions
        self.issuer = settings.base_url
        self.token_endpoint = f"{self.issuer}/oauth/token"
        self.other_endpoints = [f"{self.issuer}/oauth/introspect", f"{self.issuer}/oauth/revoke"]
        self.fetch_policy = FetchPolicy(
            allow_private_hosts=settings.oauth.allow_private_jwks_hosts,
            timeout_seconds=settings.oauth.jwks_timeout_seconds,
            max_bytes=settings.oauth.jwks_max_bytes,
        )
        self._client_jwks: dict[str, tuple[float, dict[str, Any]]] = {}
        self._client_jwks_lock = threading.Lock()
        self.register_client_auth_method("private_key_jwt", PrivateKeyJWT(self))
        self.register_grant(ClientCredentials)
        self.register_grant(AuthorizationCodeFlow, [S256CodeChallenge(required=True)])
        self.register_grant(RotatingRefreshToken)
        self.register_grant(MemberAssertion)
        self.register_endpoint(Introspection)
        self.register_endpoint(Revocation)

    # One session per OAuth request, committed once at its end.
    def run(self, work: Callable[[Session], T]) -> T:
        with self.sessions() as session:
            token = _session.set(session)
            try:
                result = work(session)
                session.commit()
                return result
            except BaseException:
                session.rollback()
                raise
            finally:
                _session.reset(token)

    # authlib's framework hooks
    def query_client(self, client_id: str) -> RegisteredClient | None:
        session = current_session()
        row = repo.client_by_client_id(session, client_id)
        if row is None:
            return None
        if row.disabled:
            raise InvalidClientError(description="the client is disabled")
        organisation = repo.organisation(session, row.organisation_id)
        return RegisteredClient(row, organisation) if organisation is not None else None

    def save_token(self, token: dict[str, Any], request: AllianceRequest) -> None:
        """Access tokens are self-contained JWTs; only a refresh token needs a row (its hash)."""
        refresh = token.get("refresh_token")
        if refresh:
            assert request.refresh_family is not None
            assert request.person is not None
            assert request.organisation is not None
            assert request.granted is not None
            family_id, expires_at = request.refresh_family
            current_session().add(
                RefreshToken(
                    token_hash=credentials.token_digest(refresh),
                    family_id=family_id,
                    client_id=request.client.row.id,
                    person_id=request.person.id,
                    organisation_id=request.organisation.id,
                    scope=request.granted.scope_string,
                    expires_at=expires_at,
                )
            )
            current_session().flush()

    def create_oauth2_request(self, request: Any) -> AllianceRequest:
        if isinstance(request, AllianceRequest):
            return request
        raise TypeError("build an AllianceRequest from the HTTP request first")

    def create_json_request(self, request: Any) -> Any:
        raise TypeError("this server takes no JSON requests")

    def handle_response(self, status: int, body: Any, headers: Any) -> OAuthResponse:
        return OAuthResponse(status=status, body=body, headers=list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """authlib announces events here; the audit log is written where they happen."""

    def validate_requested_scope(self, scope: str | None) -> None:
        unknown = [s for s in entitlements.parse_scope(scope).scopes if s not in SCOPES]
        if unknown:
            raise InvalidScopeError(describe(f"unknown scope(s): {', '.join(unknown)}"))

    # entitlements
    def ceiling(
        self,
        session: Session,
        organisation: Organisation,
        client: OAuthClient | None,
        person: Person | None,
    ) -> entitlements.Ceiling:
        seats = repo.seats(session, organisation.id)
        if client is not None:
            scopes = entitlements.client_scopes(client.scopes, organisation.kind)
            groups = entitlements.working_group_ceiling(seats, client.working_group_ids)
        else:
            scopes = entitlements.organisation_scopes(organisation.kind)
            groups = dict(seats)
        if person is not None:
            scopes &= entitlements.person_scopes(organisation.kind, org_admin=person.org_admin)
        return entitlements.Ceiling(scopes=frozenset(scopes), working_groups=groups)

    # issuing
    def key_ring(self) -> KeyRing:
        """One snapshot per use, so a rotation cannot fall between a header and a signature."""
        return self.keys.ring() if isinstance(self.keys, ReloadingKeyRing) else self.keys

    def issue(self, request: AllianceRequest, *, include_refresh_token: bool) -> dict[str, Any]:
        granted, organisation = request.granted, request.organisation
        assert granted is not None
        assert organisation is not None
        assert request.subject is not None
        assert request.token_client_id is not None
        ttl = self.settings.token.ttl_seconds
        person = request.person
        access_token, claims = issue_access_token(
            self.key_ring(),
            TokenGrant(
                subject=request.subject,
                client_id=request.token_client_id,
                organisation_id=organisation.id,
                organisation_slug=organisation.slug,
                scopes=granted.scopes,
                person_id=person.id if person is not None else None,
                working_group_ids=granted.working_group_ids,
            ),
            issuer=self.issuer,
            audience=self.settings.token_audience,
            ttl_seconds=ttl,
        )
        token: dict[str, Any] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": ttl,
            "scope": granted.scope_string,
        }
        if include_refresh_token and person is not None and request.refresh_family is not None:
            token["refresh_token"] = credentials.new_secret()
        self.audit(
            action="token.issued",
            client_id=request.token_client_id,
            organisation_id=organisation.id,
            person_id=person.id if person is not None else None,
            target_kind="access_token",
            target_id=claims["jti"],
            detail={
                "grant_type": request.payload.grant_type,
                "scope": granted.scope_string,
                "refresh_token": "refresh_token" in token,
            },
        )
        return token

    # member issuers' keys
    def issuer_keys(self, row: TrustedIssuerRow, *, kid: str | None) -> KeySet:
        if row.jwks is not None:
            return KeySet.import_key_set(row.jwks)
        assert row.jwks_uri is not None
        now = utcnow()
        age = (now - row.jwks_fetched_at).total_seconds() if row.jwks_fetched_at else None
        cached = row.cached_jwks
        fresh = age is not None and age < self.settings.oauth.jwks_cache_seconds
        kid_missing = (
            cached is not None
            and kid is not None
            and all(key.get("kid") != kid for key in cached.get("keys", []))
        )
        if (
            cached is None
            or not fresh
            or (kid_missing and age is not None and age >= JWKS_REFETCH_MIN_SECONDS)
        ):
            try:
                cached = fetch_jwks(row.jwks_uri, self.fetch_policy)
            except JwksFetchError as exc:
                raise InvalidGrantError(
                    describe(f"the issuer's keys cannot be fetched: {exc}")
                ) from exc
            row.cached_jwks = cached
            row.jwks_fetched_at = now
        return KeySet.import_key_set(cached)

    def client_jwks(self, uri: str) -> dict[str, Any]:
        """A private_key_jwt client's keys from its URL, cached in this process."""
        with self._client_jwks_lock:
            hit = self._client_jwks.get(uri)
        if hit is not None and time.monotonic() - hit[0] < self.settings.oauth.jwks_cache_seconds:
            return hit[1]
        try:
            document = fetch_jwks(uri, self.fetch_policy)
        except JwksFetchError as exc:
            raise InvalidClientError(
                description=describe(f"the client's keys cannot be fetched: {exc}")
            ) from exc
        with self._client_jwks_lock:
            self._client_jwks[uri] = (time.monotonic(), document)
        return document

    # introspection and revocation
    def find_token(self, token_string: str) -> TokenRecord | None:
        session = current_session()
        if token_string.count(".") == 2:
            try:
                claims = verify_access_token(
                    self.key_ring(),
                    token_string,
                    issuer=self.issuer,
                    audience=self.settings.token_audience,
                )
            except InvalidToken:
                return None
            return TokenRecord(
                kind="access_token",
                client_id=str(claims["client_id"]),
                organisation_id=uuid.UUID(str(claims["org"])),
                scope=str(claims["scope"]),
                expires_at=int(claims["exp"]),
                revoked=repo.jti_revoked(session, str(claims["jti"])),
                claims=claims,
            )
        row = repo.refresh_by_digest(session, credentials.token_digest(token_string))
        if row is None:
            return None
        client = session.get(OAuthClient, row.client_id)
        return TokenRecord(
            kind="refresh_token",
            client_id=client.client_id if client is not None else "",
            organisation_id=row.organisation_id,
            scope=row.scope,
            expires_at=int(row.expires_at.timestamp()),
            revoked=row.revoked_at is not None or row.rotated_at is not None,
            refresh=row,
        )

    # audit
    def audit(
        self,
        *,
        action: str,
        outcome: str = "allowed",
        client_id: str | None = None,
        organisation_id: uuid.UUID | None = None,
        person_id: uuid.UUID | None = None,
        target_kind: str | None = None,
        target_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """The one place the authorization server writes to the audit log."""
        who = f"person:{person_id}" if person_id else f"client:{client_id}" if client_id else None
        record_audit_entry(
            current_session(),
            action=action,
            outcome=outcome,
            actor=who[:200] if who else None,
            person_id=person_id,
            client_id=client_id[:200] if client_id else None,
            organisation_id=organisation_id,
            target_kind=target_kind,
            target_id=target_id,
            detail=detail,
        )

    # endpoints, as the HTTP layer calls them (each inside run())
    def token_response(self, request: AllianceRequest) -> OAuthResponse:
        response: OAuthResponse = self.create_token_response(request)
        if response.status >= 400 and isinstance(response.body, dict):
            client = request.client
            claimed = request.payload.client_id or extract_basic_authorization(request.headers)[0]
            self.audit(
                action="token.denied",
                outcome="denied",
                client_id=client.get_client_id() if client is not None else claimed,
                organisation_id=getattr(getattr(client, "organisation", None), "id", None),
                detail={
                    "grant_type": request.payload.grant_type,
                    "client_authenticated": client is not None,
                    "error": response.body.get("error"),
                    "error_description": response.body.get("error_description"),
                },
            )
        return response


def grant_error(error: rfc6749.OAuth2Error) -> OAuthResponse:
    status, body, headers = error()
    return OAuthResponse(status=status, body=body, headers=list(headers))
