"""The authorization server's HTTP endpoints, as a FastAPI router with its own lifespan.

Each endpoint reads the request body here (async), then runs the OAuth work in a
worker thread on the server's sync session (:meth:`AuthorizationServer.run`), then
turns the result into a response. Nothing blocking touches the event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import InvalidScopeError, OAuth2Error
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from alliance.auth import credentials, entitlements
from alliance.auth import repository as repo
from alliance.auth.login_page import (
    AUTHORIZATION_PARAMETERS,
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_MAX_AGE_SECONDS,
    SECURITY_HEADERS,
    ConsentPage,
    CsrfGuard,
    render_consent,
    render_problem,
)
from alliance.auth.route_access import (
    ANONYMOUS,
    CLIENT_AUTHENTICATION,
    SIGNED_IN_PERSON,
    declare,
)
from alliance.auth.scopes import SCOPES
from alliance.auth.server import (
    ASSERTION_ALGORITHMS,
    AllianceRequest,
    AuthorizationServer,
    OAuthResponse,
    RegisteredClient,
    describe,
    grant_error,
)
from alliance.auth.sync_db import make_sync_engine, make_sync_sessionmaker
from alliance.config import Settings

MAX_BODY_BYTES = 64 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"
WRONG_CREDENTIALS = "The e-mail address or password is not correct."
EXPIRED_FORM = (
    "This sign-in form expired or did not come from this page. Check your details and sign in "
    "again."
)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@asynccontextmanager
async def oauth_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The server's sync engine, made from the same settings as the app's async one."""
    settings: Settings = app.state.settings
    engine = make_sync_engine(settings.database_url, pool_size=settings.database.pool_size)
    app.state.oauth = AuthorizationServer(settings, app.state.keys, make_sync_sessionmaker(engine))
    try:
        yield
    finally:
        engine.dispose()


def _server(request: Request) -> AuthorizationServer:
    return request.app.state.oauth


def _csrf(server: AuthorizationServer) -> CsrfGuard:
    return CsrfGuard(server.key_ring().current.as_pem(private=True))


class BadRequest(Exception):
    def __init__(self, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.status = status


async def _form(request: Request) -> list[tuple[str, str]]:
    if request.method != "POST":
        return []
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise BadRequest(f"send the parameters as {FORM_TYPE}")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BadRequest("the request body is too large", status=413)
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("the form body is not valid UTF-8 form encoding") from exc


async def _oauth_request(
    request: Request, form: list[tuple[str, str]] | None = None
) -> AllianceRequest:
    server = _server(request)
    if form is None:
        form = await _form(request)
    # The issuer's URL, not the socket's: behind a TLS-terminating proxy this is the https one.
    uri = server.issuer + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    args = parse_qsl(request.url.query, keep_blank_values=True, max_num_fields=100)
    return AllianceRequest(request.method, uri, request.headers, args, form)


def _json_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=NO_STORE
    )


def _to_response(result: OAuthResponse) -> Response:
    headers = {k: v for k, v in result.headers if k.lower() != "content-type"}
    headers.update(NO_STORE)
    if isinstance(result.body, dict):
        return JSONResponse(result.body, status_code=result.status, headers=headers)
    return Response(result.body or b"", status_code=result.status, headers=headers)


async def _endpoint(request: Request, handle: Any) -> Response:
    """Run ``handle(server, oauth_request)`` in a worker thread, in one transaction."""
    server = _server(request)
    try:
        oauth_request = await _oauth_request(request)
    except BadRequest as exc:
        return _json_error("invalid_request", exc.description, exc.status)
    except OAuth2Error as exc:  # e.g. insecure_transport: the base URL is not https
        return _to_response(grant_error(exc))
    result = await run_in_threadpool(server.run, lambda _session: handle(server, oauth_request))
    return _to_response(result)


# --- the authorization page -------------------------------------------------------------------


def _page_for(
    grant: Any, *, message: str | None = None, email: str = "", status: int = 200
) -> ConsentPage:
    request: AllianceRequest = grant.request
    client: RegisteredClient = request.client
    requested = entitlements.parse_scope(request.payload.scope)
    shown = requested.scopes or tuple(
        s
        for s in SCOPES
        if s in entitlements.client_scopes(client.row.scopes, client.organisation.kind)
    )
    return ConsentPage(
        client_name=client.row.name,
        organisation_name=client.organisation.name,
        scopes=[(s, SCOPES.get(s, s)) for s in shown],
        working_groups=requested.working_groups,
        message=message,
        email=email,
        status=status,
        parameters={k: v for k, v in request.payload.data.items() if k in AUTHORIZATION_PARAMETERS},
    )


def _refused(error: OAuth2Error) -> OAuthResponse | str:
    """Errors go back to the application only once its redirect URI is known to be its own."""
    if error.redirect_uri:
        return grant_error(error)
    return describe(error.description or error.error or "invalid request")


def _consent(
    server: AuthorizationServer, request: AllianceRequest
) -> ConsentPage | OAuthResponse | str:
    try:
        grant = server.get_consent_grant(request)
    except OAuth2Error as error:
        return _refused(error)
    return _page_for(grant)


def _sign_in(
    server: AuthorizationServer, request: AllianceRequest, session: Session, csrf_ok: bool
) -> ConsentPage | OAuthResponse | str:
    try:
        grant = server.get_consent_grant(request)
    except OAuth2Error as error:
        return _refused(error)
    form = request.form
    email = form.get("email", "").strip()
    if not csrf_ok:
        return _page_for(grant, message=EXPIRED_FORM, email=email, status=400)
    client: RegisteredClient = request.client
    if form.get("decision") == "deny":
        server.audit(
            action="authorization.denied_by_person",
            outcome="denied",
            client_id=client.row.client_id,
            organisation_id=client.organisation.id,
        )
        return server.create_authorization_response(request, grant_user=None, grant=grant)
    person = repo.person_by_email(session, email) if email else None
    if not credentials.check_password(
        person.password_hash if person else None, form.get("password", "")
    ):
        server.audit(
            action="login.failed",
            outcome="denied",
            client_id=client.row.client_id,
            person_id=person.id if person else None,
            organisation_id=person.organisation_id if person else None,
            detail={"reason": "wrong e-mail address or password"},
        )
        return _page_for(grant, message=WRONG_CREDENTIALS, email=email, status=400)
    assert person is not None
    organisation = repo.organisation(session, person.organisation_id)
    if person.disabled or organisation is None:
        return _page_for(
            grant,
            message="This account is disabled. Ask your organisation's administrator.",
            email=email,
            status=400,
        )
    if (
        person.organisation_id != client.row.organisation_id
        and client.organisation.kind != entitlements.OPERATOR_ORGANISATION_KIND
    ):
        return _page_for(
            grant,
            message=f"{client.row.name} belongs to {client.organisation.name}; only its people "
            "can sign in to it.",
            email=email,
            status=400,
        )
    ceiling = server.ceiling(session, organisation, client.row, person)
    try:
        request.granted = entitlements.decide(request.payload.scope, ceiling)
    except entitlements.ScopeRefused as exc:
        server.audit(
            action="authorization.denied",
            outcome="denied",
            client_id=client.row.client_id,
            person_id=person.id,
            organisation_id=organisation.id,
            detail={"error": "invalid_scope", "reason": str(exc)},
        )
        return grant_error(
            InvalidScopeError(
                describe(str(exc)), redirect_uri=grant.redirect_uri, state=request.payload.state
            )
        )
    request.person = person
    server.audit(
        action="authorization.granted",
        client_id=client.row.client_id,
        person_id=person.id,
        organisation_id=organisation.id,
        detail={"scope": request.granted.scope_string},
    )
    return server.create_authorization_response(request, grant_user=person, grant=grant)


async def _authorization_page(
    request: Request, csrf_ok: bool | None, form: list[tuple[str, str]] | None = None
) -> Response:
    server = _server(request)
    try:
        oauth_request = await _oauth_request(request, form)
    except BadRequest as exc:
        return HTMLResponse(render_problem(exc.description), exc.status, headers=SECURITY_HEADERS)
    except OAuth2Error as exc:
        return HTMLResponse(
            render_problem(describe(exc.description or exc.error or "")),
            400,
            headers=SECURITY_HEADERS,
        )
    if csrf_ok is None:
        result = await run_in_threadpool(server.run, lambda _s: _consent(server, oauth_request))
    else:
        result = await run_in_threadpool(
            server.run, lambda session: _sign_in(server, oauth_request, session, csrf_ok)
        )
    if isinstance(result, OAuthResponse):
        return _to_response(result)
    if isinstance(result, str):
        return HTMLResponse(render_problem(result), 400, headers=SECURITY_HEADERS)
    guard = _csrf(server)
    token = guard.issue()
    response = HTMLResponse(render_consent(result, token), result.status, headers=SECURITY_HEADERS)
    response.set_cookie(
        CSRF_COOKIE,
        token,
        max_age=CSRF_MAX_AGE_SECONDS,
        path="/oauth/authorize",
        httponly=True,
        samesite="strict",
        secure=server.issuer.startswith("https://"),
    )
    return response


# --- the router -------------------------------------------------------------------------------


def oauth_router() -> APIRouter:
    router = APIRouter(lifespan=oauth_lifespan)

    @router.post(
        "/oauth/token", dependencies=declare(CLIENT_AUTHENTICATION), include_in_schema=False
    )
    async def token(request: Request) -> Response:
        return await _endpoint(request, lambda server, req: server.token_response(req))

    @router.post(
        "/oauth/introspect", dependencies=declare(CLIENT_AUTHENTICATION), include_in_schema=False
    )
    async def introspect(request: Request) -> Response:
        return await _endpoint(
            request, lambda server, req: server.create_endpoint_response("introspection", req)
        )

    @router.post(
        "/oauth/revoke", dependencies=declare(CLIENT_AUTHENTICATION), include_in_schema=False
    )
    async def revoke(request: Request) -> Response:
        return await _endpoint(
            request, lambda server, req: server.create_endpoint_response("revocation", req)
        )

    @router.get("/oauth/authorize", dependencies=declare(ANONYMOUS), include_in_schema=False)
    async def authorize_page(request: Request) -> Response:
        return await _authorization_page(request, csrf_ok=None)

    @router.post(
        "/oauth/authorize", dependencies=declare(SIGNED_IN_PERSON), include_in_schema=False
    )
    async def authorize(request: Request) -> Response:
        server = _server(request)
        try:
            form = await _form(request)
        except BadRequest as exc:
            return HTMLResponse(
                render_problem(exc.description), exc.status, headers=SECURITY_HEADERS
            )
        submitted = dict(form).get(CSRF_FIELD)
        csrf_ok = _csrf(server).check(request.cookies.get(CSRF_COOKIE), submitted)
        return await _authorization_page(request, csrf_ok=csrf_ok, form=form)

    @router.get(
        "/.well-known/oauth-authorization-server",
        dependencies=declare(ANONYMOUS),
        include_in_schema=False,
    )
    async def metadata(request: Request) -> dict[str, Any]:
        return server_metadata(_server(request))

    return router


def server_metadata(server: AuthorizationServer) -> dict[str, Any]:
    """RFC 8414."""
    issuer = server.issuer
    auth_methods = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
    signing_algs = list(ASSERTION_ALGORITHMS)
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [
            "authorization_code",
            "client_credentials",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
        ],
        "token_endpoint_auth_methods_supported": [*auth_methods, "none"],
        "token_endpoint_auth_signing_alg_values_supported": signing_algs,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_signing_alg_values_supported": signing_algs,
        "revocation_endpoint_auth_methods_supported": [*auth_methods, "none"],
        "revocation_endpoint_auth_signing_alg_values_supported": signing_algs,
        "code_challenge_methods_supported": ["S256"],
    }
