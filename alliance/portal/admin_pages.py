"""Organisation admin: the organisation's OAuth clients (create, the secret shown once,
rotate, disable, enable), through ``alliance.auth.service`` with the person's principal;
the audit log; and the operator's page (organisations, working groups, seats, peers)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from alliance.auth import service as auth_service
from alliance.auth.entitlements import MACHINE_ONLY_SCOPES, OPERATOR_SCOPE
from alliance.auth.models import GrantType
from alliance.auth.route_access import declare
from alliance.auth.scopes import SCOPES
from alliance.db import unit_of_work
from alliance.errors import DomainError, InvalidInput, NotFound
from alliance.orgs.models import MembershipRole, OrganisationKind
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
SEATS_SHOWN = 50
OPERATOR_FORMS: dict[str, tuple[str, ...]] = {
    "org": ("slug", "name", "kind", "country"),
    "group": ("slug", "name", "sector", "charter"),
    "seat": ("working_group", "organisation", "role"),
}
SEAT_FIELD_OF_KIND = {"working group": "working_group", "organisation": "organisation"}
PEER_ACTIONS = {"enable": True, "disable": False}


def _field_errors(form_name: str, exc: InvalidInput) -> dict[str, list[str]]:
    """The service's problems keyed by the page's field ids (``org-slug``); a problem on a
    path the form has no field for goes next to its first field."""
    fields = OPERATOR_FORMS[form_name]
    errors: dict[str, list[str]] = {}
    for p in exc.problems:
        field = p.path[0] if p.path and p.path[0] in fields else fields[0]
        errors.setdefault(f"{form_name}-{field}", []).append(p.message)
    return errors


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def add_operator_page(router: APIRouter) -> None:
    from alliance.federation import service as federation
    from alliance.orgs import repository as orgs_repo
    from alliance.orgs import service as orgs_service

    async def operator_page(
        request: Request,
        visit: Visit,
        *,
        posted: str = "",
        form: dict[str, str] | None = None,
        errors: dict[str, list[str]] | None = None,
        status: int = 200,
    ) -> Response:
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                organisations = await orgs_repo.page_organisations(
                    db, kinds=None, after=None, limit=DIRECTORY_PAGE_SIZE
                )
                groups = await orgs_repo.page_working_groups(
                    db, after=None, limit=DIRECTORY_PAGE_SIZE
                )
                seats = await orgs_repo.windowed_memberships(
                    db,
                    owner_column="working_group_id",
                    owner_ids=[g.id for g in groups.items],
                    after=None,
                    limit=SEATS_SHOWN,
                )
                slugs = {o.id: o.slug for o in organisations.items}
                unlisted = {m.organisation_id for ms, _ in seats.values() for m in ms} - set(slugs)
                if unlisted:
                    found = await orgs_repo.organisations_by_ids(db, list(unlisted))
                    slugs |= {o.id: o.slug for o in found}
                peers = await federation.list_peers(db, visit.principal)
        except DomainError as exc:
            return problem(visit, exc.message, 403 if exc.code == "FORBIDDEN" else 400)
        return render(
            visit,
            "operator.html",
            status=status,
            organisations=organisations.items,
            groups=groups.items,
            seats={
                gid: ([(slugs.get(m.organisation_id, "?"), m.role.value) for m in ms], total)
                for gid, (ms, total) in seats.items()
            },
            seats_shown=SEATS_SHOWN,
            peers=peers,
            kinds=[k.value for k in OrganisationKind],
            roles=[r.value for r in MembershipRole],
            peer_actions=PEER_ACTIONS,
            posted=posted,
            form=form or {},
            errors=errors or {},
        )

    async def operator_form(request: Request) -> tuple[Visit, dict[str, str]] | Response:
        """A form posted to the operator page with its CSRF token, by an operator only."""
        posted = await posted_form(request)
        if isinstance(posted, Response):
            return posted
        visit, form = posted
        assert visit.principal is not None
        if not visit.principal.has_scope(OPERATOR_SCOPE):
            return problem(visit, visit.t("error.forbidden"), 403)
        return visit, form

    async def refused(
        request: Request, visit: Visit, name: str, form: dict[str, str], exc: DomainError
    ) -> Response:
        """The page again with the problem next to its field; never a partial write, since
        the unit of work rolled back."""
        if isinstance(exc, InvalidInput):
            errors = _field_errors(name, exc)
        elif isinstance(exc, NotFound) and name == "seat":
            errors = {f"seat-{SEAT_FIELD_OF_KIND.get(exc.kind, 'working_group')}": [exc.message]}
        elif exc.code == "CONFLICT":
            errors = {f"{name}-slug" if name != "seat" else "seat-form": [exc.message]}
        else:
            return problem(visit, exc.message, 403 if exc.code == "FORBIDDEN" else 400)
        status = 409 if exc.code == "CONFLICT" else 400
        return await operator_page(
            request, visit, posted=name, form=form, errors=errors, status=status
        )

    @router.get("/portal/operator", dependencies=declare(PORTAL_SESSION), include_in_schema=False)
    async def operator(request: Request) -> Response:
        """The operator's view: organisations, working groups and their seats, federation
        peers and their sync; with forms to add the first three and switch peers on or off."""
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        if not visit.principal.has_scope(OPERATOR_SCOPE):
            return problem(visit, visit.t("error.forbidden"), 403)
        return await operator_page(request, visit)

    @router.post(
        "/portal/operator/organisations",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def create_organisation(request: Request) -> Response:
        checked = await operator_form(request)
        if isinstance(checked, Response):
            return checked
        visit, form = checked
        data = orgs_service.OrganisationData(
            slug=form.get("slug", ""),
            name=form.get("name", ""),
            kind=form.get("kind", ""),
            country=form.get("country", "").strip() or None,
        )
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                await orgs_service.create_organisation(db, visit.principal, data)
        except DomainError as exc:
            return await refused(request, visit, "org", form, exc)
        return RedirectResponse("/portal/operator#organisations", status_code=303)

    @router.post(
        "/portal/operator/working-groups",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def create_working_group(request: Request) -> Response:
        checked = await operator_form(request)
        if isinstance(checked, Response):
            return checked
        visit, form = checked
        data = orgs_service.WorkingGroupData(
            slug=form.get("slug", ""),
            name=form.get("name", ""),
            sector=form.get("sector", ""),
            charter=form.get("charter", ""),
        )
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                await orgs_service.create_working_group(db, visit.principal, data)
        except DomainError as exc:
            return await refused(request, visit, "group", form, exc)
        return RedirectResponse("/portal/operator#working-groups", status_code=303)

    @router.post(
        "/portal/operator/seats", dependencies=declare(PORTAL_SESSION), include_in_schema=False
    )
    async def add_seat(request: Request) -> Response:
        checked = await operator_form(request)
        if isinstance(checked, Response):
            return checked
        visit, form = checked
        group_id = _uuid_or_none(form.get("working_group", ""))
        org_id = _uuid_or_none(form.get("organisation", ""))
        errors = {
            f"seat-{field}": [visit.t("operator.choose")]
            for field, chosen in (("working_group", group_id), ("organisation", org_id))
            if chosen is None
        }
        if errors:
            return await operator_page(
                request, visit, posted="seat", form=form, errors=errors, status=400
            )
        assert group_id is not None
        assert org_id is not None
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                await orgs_service.add_working_group_member(
                    db,
                    visit.principal,
                    working_group_id=group_id,
                    organisation_id=org_id,
                    role=form.get("role", ""),
                )
        except DomainError as exc:
            return await refused(request, visit, "seat", form, exc)
        return RedirectResponse("/portal/operator#working-groups", status_code=303)

    @router.post(
        "/portal/operator/peers/{name}/{action}",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def switch_peer(request: Request, name: str, action: str) -> Response:
        """Enable or disable pulls from a peer. Adding one stays with the CLI: the federation
        service keeps a peer's client secret as given, not sealed, so no page takes one."""
        checked = await operator_form(request)
        if isinstance(checked, Response):
            return checked
        visit, _form = checked
        if action not in PEER_ACTIONS:
            return problem(visit, visit.t("error.not_found"), 404)
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                await federation.set_peer_active(db, visit.principal, name, PEER_ACTIONS[action])
        except NotFound:
            return problem(visit, visit.t("error.not_found"), 404)
        except DomainError as exc:
            return problem(visit, exc.message, 403 if exc.code == "FORBIDDEN" else 400)
        return RedirectResponse("/portal/operator#peers", status_code=303)
