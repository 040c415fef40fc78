"""The portal as an OAuth client of its own instance: authorization code + PKCE.

The browser goes through the instance's real authorization page; the portal's callback
redeems the code on the instance's token endpoint. The portal and the authorization
server share a process, so the token requests are handed to the server object itself
(the same code path as ``POST /oauth/token``) rather than sent back over the network.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlalchemy.orm import Session
from starlette.datastructures import Headers

from alliance.auth import repository as auth_repo
from alliance.auth import service as auth_service
from alliance.auth.entitlements import MACHINE_ONLY_SCOPES
from alliance.auth.models import GrantType, OAuthClient
from alliance.auth.principal import Principal
from alliance.auth.scopes import SCOPES
from alliance.auth.server import AllianceRequest, AuthorizationServer, OAuthResponse
from alliance.auth.tokens import verify_access_token
from alliance.portal import repository as repo

CLIENT_NAME = "Alliance members' portal"
CALLBACK_PATH = "/portal/callback"
FORM_TYPE = "application/x-www-form-urlencoded"


class NoOperator(Exception):
    """No organisation operates this instance yet (``alliance demo`` seeds one)."""


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    state: str
    code_verifier: str


def redirect_uri(server: AuthorizationServer) -> str:
    return server.issuer + CALLBACK_PATH


def _find_or_register(session: Session, callback: str) -> OAuthClient:
    operator = repo.operator_organisation(session)
    if operator is None:
        raise NoOperator("no operator organisation on this instance yet: run 'alliance demo'")
    for client in auth_repo.clients(session, operator.id):
        if client.name == CLIENT_NAME and callback in client.redirect_uris:
            return client
    created = auth_service.create_client(
        session,
        None,
        auth_service.ClientData(
            organisation=operator.id,
            name=CLIENT_NAME,
            scopes=[s for s in SCOPES if s not in MACHINE_ONLY_SCOPES],
            grant_types=[GrantType.AUTHORIZATION_CODE.value, GrantType.REFRESH_TOKEN.value],
            redirect_uris=[callback],
            auth_method="none",
        ),
    )
    return created.client


def ensure_client(server: AuthorizationServer) -> str:
    """The portal's client id, registering the portal on first use (idempotent)."""
    callback = redirect_uri(server)
    return server.run(lambda session: _find_or_register(session, callback).client_id)


def new_pending() -> PendingSignIn:
    return PendingSignIn(state=secrets.token_urlsafe(24), code_verifier=secrets.token_urlsafe(48))


def authorization_path(server: AuthorizationServer, client_id: str, pending: PendingSignIn) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri(server),
            "state": pending.state,
            "code_challenge": create_s256_code_challenge(pending.code_verifier),
            "code_challenge_method": "S256",
        }
    )
    return f"/oauth/authorize?{query}"


def _post(server: AuthorizationServer, endpoint: str, form: list[tuple[str, str]]) -> OAuthResponse:
    request = AllianceRequest("POST", endpoint, Headers({"content-type": FORM_TYPE}), [], form)
    if endpoint == server.token_endpoint:
        return server.run(lambda _s: server.token_response(request))
    return server.run(lambda _s: server.create_endpoint_response("revocation", request))


def _tokens(response: OAuthResponse) -> dict[str, Any] | None:
    if response.status == 200 and isinstance(response.body, dict):
        return response.body
    return None


def redeem(
    server: AuthorizationServer, client_id: str, code: str, code_verifier: str
) -> dict[str, Any] | None:
    """The tokens for an authorization code, or None (expired, replayed, wrong verifier)."""
    return _tokens(
        _post(
            server,
            server.token_endpoint,
            [
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri(server)),
                ("client_id", client_id),
                ("code_verifier", code_verifier),
            ],
        )
    )


def refresh(
    server: AuthorizationServer, client_id: str, refresh_token: str
) -> dict[str, Any] | None:
    return _tokens(
        _post(
            server,
            server.token_endpoint,
            [
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", client_id),
            ],
        )
    )


def revoke(server: AuthorizationServer, client_id: str, tokens: dict[str, Any]) -> None:
    """Sign-out: the refresh token's whole family, then the access token."""
    for hint in ("refresh_token", "access_token"):
        token = tokens.get(hint)
        if token:
            _post(
                server,
                f"{server.issuer}/oauth/revoke",
                [("token", str(token)), ("token_type_hint", hint), ("client_id", client_id)],
            )


def principal_of(server: AuthorizationServer, access_token: str) -> Principal:
    """Raises InvalidToken when the token is expired or not ours."""
    claims = verify_access_token(
        server.key_ring(),
        access_token,
        issuer=server.issuer,
        audience=server.settings.token_audience,
    )
    return Principal.from_claims(claims)
