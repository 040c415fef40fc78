"""Organisation admin: the organisation's OAuth clients (create, the secret shown once,
rotate, disable, enable), through ``alliance.auth.service`` with the person's principal."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from alliance.auth import service as auth_service
from alliance.auth.entitlements import MACHINE_ONLY_SCOPES, OPERATOR_SCOPE
from alliance.auth.models import GrantType
from alliance.auth.route_access import declare
from alliance.auth.scopes import SCOPES
from alliance.db import unit_of_work
from alliance.errors import DomainError, InvalidInput, NotFound
from alliance.portal import service
from alliance.portal.http import (
    CSRF_FIELD,
    PORTAL_SESSION,
    Visit,
    posted_form,
    problem,
    render,
    sign_in_redirect,
    visit_of,
)

FIELD_OF_PATH = {"redirectUris": "redirect_uri", "grantTypes": "grant_type"}
OFFERED_GRANTS = (GrantType.CLIENT_CREDENTIALS.value, GrantType.AUTHORIZATION_CODE.value)


async def _clients_page(
    request: Request,
    visit: Visit,
    *,
    form: dict[str, str] | None = None,
    chosen_scopes: list[str] | None = None,
    errors: dict[str, list[str]] | None = None,
    secret: tuple[str, str] | None = None,
    status: int = 200,
) -> Response:
    try:
        async with unit_of_work(request.app.state.sessions) as db:
            clients = await db.run_sync(
                lambda s: auth_service.list_clients(s, visit.principal, None)
            )
    except DomainError as exc:
        return problem(visit, exc.message, 403)
    scopes = [s for s in SCOPES if s not in MACHINE_ONLY_SCOPES and s != OPERATOR_SCOPE]
    return render(
        visit,
        "admin_clients.html",
        status=status,
        clients=clients,
        scopes=[(s, SCOPES[s]) for s in scopes],
        grants=OFFERED_GRANTS,
        form=form or {},
        chosen_scopes=chosen_scopes or [],
        errors=errors or {},
        secret=secret,
    )


def add_admin_pages(router: APIRouter) -> None:
    @router.get(
        "/portal/admin/clients", dependencies=declare(PORTAL_SESSION), include_in_schema=False
    )
    async def clients(request: Request) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        return await _clients_page(request, visit)

    @router.post(
        "/portal/admin/clients", dependencies=declare(PORTAL_SESSION), include_in_schema=False
    )
    async def create(request: Request) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        form = await _all_values(request)
        if form is None or not service.csrf_ok(visit.row, _first(form, CSRF_FIELD)):
            return problem(visit, visit.t("error.csrf"), 400)
        chosen = [v for k, v in form if k == "scope"]
        grant = _first(form, "grant_type") or GrantType.CLIENT_CREDENTIALS.value
        redirect = (_first(form, "redirect_uri") or "").strip()
        principal = visit.principal
        data = auth_service.ClientData(
            organisation=principal.organisation_id,
            name=_first(form, "name") or "",
            scopes=chosen,
            grant_types=[grant, GrantType.REFRESH_TOKEN.value]
            if grant == GrantType.AUTHORIZATION_CODE.value
            else [grant],
            redirect_uris=[redirect] if redirect else [],
        )
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                created = await db.run_sync(
                    lambda s: auth_service.create_client(s, principal, data)
                )
                client_id = created.client.client_id
        except InvalidInput as exc:
            errors: dict[str, list[str]] = {}
            for p in exc.problems:
                key = p.path[0] if p.path else "name"
                errors.setdefault(FIELD_OF_PATH.get(key, key), []).append(p.message)
            return await _clients_page(
                request,
                visit,
                form=dict(form),
                chosen_scopes=chosen,
                errors=errors,
                status=400,
            )
        except DomainError as exc:
            return problem(visit, exc.message, 403 if exc.code == "FORBIDDEN" else 400)
        shown = (client_id, created.secret) if created.secret else None
        return await _clients_page(request, visit, secret=shown)

    @router.post(
        "/portal/admin/clients/{client_id}/{action}",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def change(request: Request, client_id: str, action: str) -> Response:
        posted = await posted_form(request)
        if isinstance(posted, Response):
            return posted
        visit, form = posted
        if action not in ("rotate", "disable", "enable"):
            return problem(visit, visit.t("error.not_found"), 404)
        principal = visit.principal
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                if action == "rotate":
                    rotated = await db.run_sync(
                        lambda s: auth_service.rotate_client_secret(s, principal, client_id)
                    )
                    secret = rotated.secret
                else:
                    await db.run_sync(
                        lambda s: auth_service.set_client_disabled(
                            s, principal, client_id, disabled=action == "disable"
                        )
                    )
                    secret = None
        except NotFound:
            return problem(visit, visit.t("error.not_found"), 404)
        except DomainError as exc:
            status = {"FORBIDDEN": 403, "CONFLICT": 409}.get(exc.code, 400)
            return problem(visit, exc.message, status)
        if secret:
            return await _clients_page(request, visit, secret=(client_id, secret))
        return RedirectResponse("/portal/admin/clients", status_code=303)


async def _all_values(request: Request) -> list[tuple[str, str]] | None:
    """Every value of the form (scopes are repeated checkboxes)."""
    from urllib.parse import parse_qsl

    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        return None
    body = await request.body()
    if len(body) > 64 * 1024:
        return None
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100)
    except (UnicodeDecodeError, ValueError):
        return None


def _first(pairs: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in pairs if k == name), None)


AUDIT_PAGE_SIZE = 100


def add_audit_page(router: APIRouter) -> None:
    from alliance.audit import service as audit

    @router.get(
        "/portal/admin/audit", dependencies=declare(PORTAL_SESSION), include_in_schema=False
    )
    async def audit_log(request: Request, action: str = "", before: str = "") -> Response:
        """The organisation's audit log (an operator's: every organisation's), newest first."""
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        cursor = int(before) if before.isdigit() and len(before) < 19 else None
        try:
            entry_filter = audit.visible_entries(
                visit.principal, actions=[action.strip()] if action.strip() else None
            )
            async with unit_of_work(request.app.state.sessions) as db:
                page = await audit.page_entries(
                    db, entry_filter, before=cursor, limit=AUDIT_PAGE_SIZE
                )
        except InvalidInput as exc:
            return problem(visit, exc.message, 400)
        except DomainError as exc:
            return problem(visit, exc.message, 403 if exc.code == "FORBIDDEN" else 400)
        return render(
            visit,
            "admin_audit.html",
            entries=page.items,
            has_next=page.has_next_page,
            action=action,
        )


DIRECTORY_PAGE_SIZE = 200


def add_operator_page(router: APIRouter) -> None:
    from alliance.federation import service as federation
    from alliance.orgs import repository as orgs_repo

    @router.get("/portal/operator", dependencies=declare(PORTAL_SESSION), include_in_schema=False)
    async def operator(request: Request) -> Response:
        """The operator's view: organisations, working groups, federation peers and their sync."""
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        if not visit.principal.has_scope(OPERATOR_SCOPE):
            return problem(visit, visit.t("error.forbidden"), 403)
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                organisations = await orgs_repo.page_organisations(
                    db, kinds=None, after=None, limit=DIRECTORY_PAGE_SIZE
                )
                groups = await orgs_repo.page_working_groups(
                    db, after=None, limit=DIRECTORY_PAGE_SIZE
                )
                peers = await federation.list_peers(db, visit.principal)
        except DomainError as exc:
            return problem(visit, exc.message, 403 if exc.code == "FORBIDDEN" else 400)
        return render(
            visit,
            "operator.html",
            organisations=organisations.items,
            groups=groups.items,
            peers=peers,
        )
