"""The portal's routes: ``/portal``. Pages are rendered on the server (Jinja2); each calls the
same ``alliance`` services as the API, with the signed-in person's principal."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from alliance.auth.principal import Principal
from alliance.auth.revocations import token_revoked
from alliance.auth.route_access import ANONYMOUS, RouteAccess, declare
from alliance.auth.server import AuthorizationServer
from alliance.auth.tokens import InvalidToken
from alliance.db import unit_of_work
from alliance.errors import DomainError, InvalidInput
from alliance.observability.context import Caller, set_caller
from alliance.portal import service, signin
from alliance.portal.catalogue import DEFAULT_LANGUAGE, LANGUAGES, translator
from alliance.portal.models import PortalSession

SESSION_COOKIE = "alliance_portal"
LANGUAGE_COOKIE = "alliance_portal_lang"
CSRF_FIELD = "csrf_token"
MAX_FORM_BYTES = 256 * 1024
PORTAL_SESSION = RouteAccess(
    "a person signed in to the portal (session cookie; every POST carries the session's "
    "CSRF token); each page calls the services with that person's principal"
)
PORTAL_SIGN_IN = RouteAccess(
    "anyone: starts or completes the portal's own authorization-code + PKCE sign-in"
)
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
STATIC = {"portal.css": "text/css", "portal.js": "text/javascript"}

_env = Environment(
    loader=PackageLoader("alliance.portal", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass
class Visit:
    """One request of the portal: who (if anyone), in which language, with which CSRF token."""

    request: Request
    language: str
    row: PortalSession | None = None
    principal: Principal | None = None
    cookie_value: str | None = None

    @property
    def t(self) -> Any:
        return translator(self.language)

    @property
    def csrf_token(self) -> str:
        return self.row.csrf_token if self.row is not None else ""


def _secure(request: Request) -> bool:
    server: AuthorizationServer = request.app.state.oauth
    return server.issuer.startswith("https://") or request.url.scheme == "https"


def _language(request: Request) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen  # type: ignore[return-value]
    accept = request.headers.get("accept-language", "").lower()
    return "zh" if accept.startswith("zh") else DEFAULT_LANGUAGE


def render(visit: Visit, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _env.get_template(template).render(
        t=visit.t,
        lang=visit.language,
        languages=LANGUAGES,
        visit=visit,
        principal=visit.principal,
        csrf_field=CSRF_FIELD,
        csrf_token=visit.csrf_token,
        path=visit.request.url.path
        + (f"?{visit.request.url.query}" if visit.request.url.query else ""),
        **context,
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _set_session_cookie(response: Response, request: Request, value: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max_age,
        path="/portal",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )


async def visit_of(request: Request) -> Visit:
    """The request's visit; a signed-in session gets a principal from its (refreshed) token."""
    visit = Visit(request=request, language=_language(request))
    cookie = request.cookies.get(SESSION_COOKIE)
    async with unit_of_work(request.app.state.sessions) as db:
        row = await service.find(db, cookie)
    if row is None or row.person_id is None or cookie is None:
        visit.row = row
        return visit
    if not service.access_fresh(row):
        found = await _refreshed(request, cookie, row)
        if found is None:
            return visit
        row = found
    tokens = service.tokens_of(row, cookie)
    try:
        assert tokens is not None
        principal = signin.principal_of(request.app.state.oauth, tokens["access_token"])
    except (AssertionError, InvalidToken, KeyError):
        return visit
    if await token_revoked(request.app.state.sessions, principal.token_id):
        return visit
    visit.row, visit.principal, visit.cookie_value = row, principal, cookie
    set_caller(
        Caller(
            actor=principal.actor,
            organisation_id=principal.organisation_id,
            person_id=principal.person_id,
            client_id=principal.client_id,
        )
    )
    return visit


_refreshing: dict[uuid.UUID, asyncio.Lock] = {}


async def _refreshed(request: Request, cookie: str, stale: PortalSession) -> PortalSession | None:
    """The session with a fresh access token, from its rotating refresh token. One refresh per
    session at a time: a page and its progress poll expiring together must not both spend the
    same refresh token (the second use would end the whole token family, as reuse should)."""
    server: AuthorizationServer = request.app.state.oauth
    lock = _refreshing.setdefault(stale.id, asyncio.Lock())
    try:
        async with lock, unit_of_work(request.app.state.sessions) as db:
            row = await service.find(db, cookie)  # again: another request may have refreshed
            if row is None:
                return None
            if service.access_fresh(row):
                return row
            tokens = service.tokens_of(row, cookie) or {}
            renewed = None
            if tokens.get("refresh_token"):
                client_id = await run_in_threadpool(signin.ensure_client, server)
                renewed = await run_in_threadpool(
                    signin.refresh, server, client_id, tokens["refresh_token"]
                )
            if renewed is None:
                await service.end(db, row)
                return None
            await service.replace_tokens(db, row, cookie, renewed)
            return row
    finally:
        if not lock.locked():
            _refreshing.pop(stale.id, None)


async def read_form(request: Request) -> dict[str, str] | None:
    """The urlencoded form body (first value of each field), or None when it is not one."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        return None
    form: dict[str, str] = {}
    for key, value in pairs:
        form.setdefault(key, value)
    return form


def problem(visit: Visit, message: str, status: int) -> HTMLResponse:
    return render(visit, "problem.html", status=status, message=message)


def sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/portal/login?next={quote(target, safe='')}", status_code=303)


async def posted_form(request: Request) -> tuple[Visit, dict[str, str]] | Response:
    """A form posted by a signed-in person with this session's CSRF token: the visit and the
    fields; otherwise the answer to give (to the sign-in page, or a 400 refusing the form)."""
    visit = await visit_of(request)
    form = await read_form(request)
    if visit.principal is None:
        return sign_in_redirect(request)
    if form is None or not service.csrf_ok(visit.row, form.get(CSRF_FIELD)):
        return problem(visit, visit.t("error.csrf"), 400)
    return visit, form


def portal_router() -> APIRouter:
    router = APIRouter()

    @router.get("/portal/static/{name}", dependencies=declare(ANONYMOUS), include_in_schema=False)
    async def static(name: str) -> Response:
        if name not in STATIC:
            return Response("not found", status_code=404, media_type="text/plain")
        body = resources.files("alliance.portal").joinpath("static", name).read_bytes()
        return Response(body, media_type=STATIC[name], headers={"Cache-Control": "max-age=300"})

    @router.get("/portal/language", dependencies=declare(ANONYMOUS), include_in_schema=False)
    async def language(request: Request, to: str = DEFAULT_LANGUAGE, next: str = "") -> Response:
        response = RedirectResponse(service.safe_return_to(next), status_code=303)
        if to in LANGUAGES:
            response.set_cookie(
                LANGUAGE_COOKIE,
                to,
                max_age=365 * 24 * 3600,
                path="/portal",
                samesite="lax",
                secure=_secure(request),
            )
        return response

    @router.get("/portal/login", dependencies=declare(PORTAL_SIGN_IN), include_in_schema=False)
    async def login(request: Request, next: str = "") -> Response:
        server: AuthorizationServer = request.app.state.oauth
        visit = await visit_of(request)
        if visit.principal is not None:
            return RedirectResponse(service.safe_return_to(next), status_code=303)
        try:
            client_id = await run_in_threadpool(signin.ensure_client, server)
        except signin.NoOperator:
            return problem(visit, visit.t("auth.no_operator"), 503)
        pending = signin.new_pending()
        async with unit_of_work(request.app.state.sessions) as db:
            opened = await service.start_sign_in(db, pending, next)
        response = RedirectResponse(
            signin.authorization_path(server, client_id, pending), status_code=303
        )
        _set_session_cookie(response, request, opened.cookie_value, service.PENDING_SECONDS)
        return response

    @router.get(signin.CALLBACK_PATH, dependencies=declare(PORTAL_SIGN_IN), include_in_schema=False)
    async def callback(request: Request) -> Response:
        server: AuthorizationServer = request.app.state.oauth
        visit = Visit(request=request, language=_language(request))
        params = request.query_params
        cookie = request.cookies.get(SESSION_COOKIE)
        async with unit_of_work(request.app.state.sessions) as db:
            pending = await service.find(db, cookie)
            if (
                pending is None
                or pending.person_id is not None
                or pending.code_verifier is None
                or not service.state_matches(pending, params.get("state"))
            ):
                return render(visit, "landing.html", status=400, message=visit.t("auth.failed"))
            if params.get("error") or not params.get("code"):
                await service.end(db, pending)
                key = "auth.denied" if params.get("error") == "access_denied" else "auth.failed"
                return render(visit, "landing.html", status=400, message=visit.t(key))
            verifier, return_to = pending.code_verifier, pending.return_to
        client_id = await run_in_threadpool(signin.ensure_client, server)
        tokens = await run_in_threadpool(signin.redeem, server, client_id, params["code"], verifier)
        principal = None
        if tokens is not None:
            try:
                principal = signin.principal_of(server, tokens["access_token"])
            except (InvalidToken, KeyError):
                principal = None
        if tokens is None or principal is None or principal.person_id is None:
            return render(visit, "landing.html", status=400, message=visit.t("auth.failed"))
        async with unit_of_work(request.app.state.sessions) as db:
            pending = await service.find(db, cookie)
            if pending is None:
                return render(visit, "landing.html", status=400, message=visit.t("auth.failed"))
            opened = await service.complete_sign_in(db, pending, principal.person_id, tokens)
        response = RedirectResponse(service.safe_return_to(return_to), status_code=303)
        _set_session_cookie(response, request, opened.cookie_value, service.SIGNED_IN_SECONDS)
        return response

    @router.post("/portal/logout", dependencies=declare(PORTAL_SESSION), include_in_schema=False)
    async def logout(request: Request) -> Response:
        server: AuthorizationServer = request.app.state.oauth
        visit = Visit(request=request, language=_language(request))
        form = await read_form(request)
        cookie = request.cookies.get(SESSION_COOKIE)
        async with unit_of_work(request.app.state.sessions) as db:
            row = await service.find(db, cookie)
            if row is None:
                return RedirectResponse("/portal", status_code=303)
            if not service.csrf_ok(row, (form or {}).get(CSRF_FIELD)):
                visit.row = row
                return problem(visit, visit.t("error.csrf"), 400)
            tokens = service.tokens_of(row, cookie) if cookie else None
            await service.end(db, row)
        if tokens:
            client_id = await run_in_threadpool(signin.ensure_client, server)
            await run_in_threadpool(signin.revoke, server, client_id, tokens)
        response = render(visit, "landing.html", message=visit.t("auth.signed_out"))
        response.delete_cookie(SESSION_COOKIE, path="/portal")
        return response

    from alliance.portal import (
        admin_pages,
        charts_pages,
        guides_pages,
        imports,
        members_pages,
        pages,
        playground,
        proposals_pages,
        rules_pages,
        search_pages,
        webhook_pages,
    )

    # The import page's fixed path before the indicator page's pattern.
    imports.add_import_pages(router)
    pages.add_pages(router)
    playground.add_playground(router)
    rules_pages.add_rule_editor(router)
    rules_pages.add_rules_pages(router)
    guides_pages.add_guides_pages(router)
    admin_pages.add_admin_pages(router)
    admin_pages.add_audit_page(router)
    admin_pages.add_operator_page(router)
    members_pages.add_members_pages(router)
    charts_pages.add_chart_pages(router)
    webhook_pages.add_webhook_pages(router)
    proposals_pages.add_proposal_pages(router)
    search_pages.add_search_page(router)
    return router


def domain_problem(visit: Visit, exc: DomainError) -> HTMLResponse:
    if isinstance(exc, InvalidInput):
        return problem(visit, exc.message, 400)
    status = {"NOT_FOUND": 404, "FORBIDDEN": 403, "CONFLICT": 409}.get(exc.code, 400)
    return problem(visit, exc.message, status)


def parse_uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
