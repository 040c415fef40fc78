"""Organisation admin: the organisation's people (add one with an initial password, grant or
withdraw the admin role, disable or enable) and its working-group seats (a role changed where
the caller manages the group), through ``alliance.orgs`` and ``alliance.auth`` services with
the person's principal. Operators may name another organisation (``?organisation=<slug>``)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from alliance.auth import service as auth_service
from alliance.auth.route_access import declare
from alliance.db import unit_of_work
from alliance.errors import DomainError, InvalidInput, NotFound
from alliance.orgs import members
from alliance.orgs import service as orgs_service
from alliance.orgs.models import MembershipRole, Organisation
from alliance.portal.http import (
    CSRF_FIELD,
    PORTAL_SESSION,
    Visit,
    parse_uuid,
    posted_form,
    problem,
    render,
    sign_in_redirect,
    visit_of,
)

PAGE_SIZE = 100
PATH = "/portal/admin/members"
PERSON_ACTIONS = {
    "grant": ("org_admin", True),
    "withdraw": ("org_admin", False),
    "disable": ("disabled", True),
    "enable": ("disabled", False),
}
FIELD_OF_PATH = {"displayName": "display_name"}
MAX_SLUG = 63


def _status(exc: DomainError) -> int:
    return {"FORBIDDEN": 403, "NOT_FOUND": 404, "CONFLICT": 409}.get(exc.code, 400)


def _organisation_ref(visit: Visit, slug: str | None) -> str | uuid.UUID:
    """The organisation a request is about: the one named (by an operator), else the caller's."""
    assert visit.principal is not None
    slug = (slug or "").strip()
    if slug and len(slug) <= MAX_SLUG:
        return slug
    return visit.principal.organisation_id


def _page_path(organisation: Organisation, visit: Visit) -> str:
    assert visit.principal is not None
    if organisation.id == visit.principal.organisation_id:
        return PATH
    return f"{PATH}?organisation={quote(organisation.slug, safe='')}"


async def _members_page(
    request: Request,
    visit: Visit,
    organisation_slug: str | None,
    *,
    after: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    row_errors: dict[str, str] | None = None,
    done: str | None = None,
    status: int = 200,
) -> Response:
    principal = visit.principal
    ref = _organisation_ref(visit, organisation_slug)
    try:
        async with unit_of_work(request.app.state.sessions) as db:
            organisation = await db.run_sync(
                lambda s: auth_service.managed_organisation(s, principal, ref)
            )
            page = await members.page_people(
                db, principal, organisation.id, after=after, limit=PAGE_SIZE
            )
            total = await members.count_people(db, principal, organisation.id)
            seats = await members.organisation_seats(db, principal, organisation.id)
    except DomainError as exc:
        return problem(visit, exc.message, _status(exc))
    return render(
        visit,
        "admin_members.html",
        status=status,
        organisation=organisation,
        own=principal is not None and organisation.id == principal.organisation_id,
        people=page.items,
        total=total,
        next_after=page.items[-1].email if page.has_next_page and page.items else None,
        seats=seats,
        roles=[r.value for r in MembershipRole],
        form=form or {},
        errors=errors or {},
        row_errors=row_errors or {},
        done=done,
        page_path=_page_path(organisation, visit),
    )


def _field_errors(exc: InvalidInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for p in exc.problems:
        key = p.path[0] if p.path else "email"
        errors.setdefault(FIELD_OF_PATH.get(key, key), []).append(p.message)
    return errors


def add_members_pages(router: APIRouter) -> None:
    @router.get(PATH, dependencies=declare(PORTAL_SESSION), include_in_schema=False)
    async def people(request: Request, organisation: str = "", after: str = "") -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        cursor = after if after and len(after) <= 320 else None
        return await _members_page(request, visit, organisation, after=cursor)

    @router.post(PATH, dependencies=declare(PORTAL_SESSION), include_in_schema=False)
    async def add(request: Request) -> Response:
        posted = await posted_form(request)
        if isinstance(posted, Response):
            return posted
        visit, form = posted
        principal = visit.principal
        slug = form.get("organisation")
        ref = _organisation_ref(visit, slug)
        kept = {k: v for k, v in form.items() if k not in ("password", CSRF_FIELD)}
        email = form.get("email") or ""
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                organisation = await db.run_sync(
                    lambda s: auth_service.managed_organisation(s, principal, ref)
                )
                added = await members.add_person(
                    db,
                    principal,
                    organisation.id,
                    email=email,
                    display_name=form.get("display_name") or "",
                    password=form.get("password") or "",
                    org_admin=form.get("org_admin") == "on",
                )
                added_email = added.email
        except InvalidInput as exc:
            return await _members_page(
                request, visit, slug, form=kept, errors=_field_errors(exc), status=400
            )
        except DomainError as exc:
            if exc.code == "CONFLICT":
                return await _members_page(
                    request, visit, slug, form=kept, errors={"email": [exc.message]}, status=409
                )
            return problem(visit, exc.message, _status(exc))
        return await _members_page(
            request, visit, slug, done=visit.t("members.added", email=added_email)
        )

    @router.post(
        PATH + "/seats/{group_id}", dependencies=declare(PORTAL_SESSION), include_in_schema=False
    )
    async def change_role(request: Request, group_id: str) -> Response:
        posted = await posted_form(request)
        if isinstance(posted, Response):
            return posted
        visit, form = posted
        group = parse_uuid(group_id)
        if group is None:
            return problem(visit, visit.t("error.not_found"), 404)
        principal = visit.principal
        slug = form.get("organisation")
        ref = _organisation_ref(visit, slug)
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                organisation = await db.run_sync(
                    lambda s: auth_service.managed_organisation(s, principal, ref)
                )
                await orgs_service.change_working_group_role(
                    db,
                    principal,
                    working_group_id=group,
                    organisation_id=organisation.id,
                    role=form.get("role") or "",
                )
                back = _page_path(organisation, visit)
        except NotFound:
            return problem(visit, visit.t("error.not_found"), 404)
        except DomainError as exc:
            if exc.code in ("CONFLICT", "INVALID"):
                return await _members_page(
                    request,
                    visit,
                    slug,
                    row_errors={str(group): exc.message},
                    status=_status(exc),
                )
            return problem(visit, exc.message, _status(exc))
        return RedirectResponse(back, status_code=303)

    @router.post(
        PATH + "/{person_id}/{action}",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def change(request: Request, person_id: str, action: str) -> Response:
        posted = await posted_form(request)
        if isinstance(posted, Response):
            return posted
        visit, form = posted
        person = parse_uuid(person_id)
        if action not in PERSON_ACTIONS or person is None:
            return problem(visit, visit.t("error.not_found"), 404)
        field, value = PERSON_ACTIONS[action]
        principal = visit.principal
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                changed: Any
                if field == "org_admin":
                    changed = await members.set_organisation_admin(
                        db, principal, person, org_admin=value
                    )
                else:
                    changed = await members.set_person_disabled(
                        db, principal, person, disabled=value
                    )
                organisation = await db.get(Organisation, changed.organisation_id)
                assert organisation is not None
                back = _page_path(organisation, visit)
        except NotFound:
            return problem(visit, visit.t("error.not_found"), 404)
        except DomainError as exc:
            if exc.code == "CONFLICT":
                return await _members_page(
                    request,
                    visit,
                    form.get("organisation"),
                    row_errors={str(person): exc.message},
                    status=409,
                )
            return problem(visit, exc.message, _status(exc))
        return RedirectResponse(back, status_code=303)
