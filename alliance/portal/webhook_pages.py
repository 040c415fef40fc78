"""Organisation admin: webhook subscriptions (create with the secret shown once, rotate,
delete), each with its delivery log and a redeliver button, through
``alliance.webhooks.service`` with the person's principal."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from alliance.auth.route_access import declare
from alliance.config import Settings
from alliance.db import unit_of_work
from alliance.errors import DomainError, InvalidInput, NotFound
from alliance.portal.http import (
    PORTAL_SESSION,
    Visit,
    parse_uuid,
    posted_form,
    problem,
    render,
    sign_in_redirect,
    visit_of,
)
from alliance.webhooks import service as webhooks

PAGE_SIZE = 50


def _status(exc: DomainError) -> int:
    return {"FORBIDDEN": 403, "NOT_FOUND": 404, "CONFLICT": 409}.get(exc.code, 400)


async def _list_page(
    request: Request,
    visit: Visit,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    secret: tuple[uuid.UUID, str] | None = None,
    status: int = 200,
) -> Response:
    try:
        async with unit_of_work(request.app.state.sessions) as db:
            page = await webhooks.page_subscriptions(
                db, visit.principal, after=None, limit=PAGE_SIZE
            )
    except DomainError as exc:
        return problem(visit, exc.message, _status(exc))
    return render(
        visit,
        "admin_webhooks.html",
        status=status,
        subscriptions=page.items,
        form=form or {},
        errors=errors or {},
        secret=secret,
    )


async def _log_page(
    request: Request, visit: Visit, subscription_id: str, secret: str | None = None
) -> Response:
    found = parse_uuid(subscription_id)
    if found is None:
        return problem(visit, visit.t("error.not_found"), 404)
    try:
        async with unit_of_work(request.app.state.sessions) as db:
            sub = await webhooks.subscription(db, visit.principal, found)
            log = await webhooks.delivery_log(
                db, visit.principal, found, before=None, limit=PAGE_SIZE
            )
    except DomainError as exc:
        return problem(visit, exc.message, _status(exc))
    return render(
        visit,
        "admin_webhook.html",
        sub=sub,
        deliveries=log.page.items,
        attempts=log.attempts,
        secret=secret,
    )


def add_webhook_pages(router: APIRouter) -> None:
    @router.get(
        "/portal/admin/webhooks", dependencies=declare(PORTAL_SESSION), include_in_schema=False
    )
    async def subscriptions(request: Request) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        return await _list_page(request, visit)

    @router.post(
        "/portal/admin/webhooks", dependencies=declare(PORTAL_SESSION), include_in_schema=False
    )
    async def create(request: Request) -> Response:
        posted = await posted_form(request)
        if isinstance(posted, Response):
            return posted
        visit, form = posted
        settings: Settings = request.app.state.settings
        kinds = [k.strip() for k in form.get("kinds", "").split(",") if k.strip()]
        data = webhooks.SubscriptionData(
            url=form.get("url", ""), description=form.get("description", ""), kinds=kinds
        )
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                created = await webhooks.create_subscription(
                    db,
                    visit.principal,
                    data,
                    settings=settings.webhooks,
                    allow_private_hosts=settings.outbound.allow_private_hosts,
                )
                shown = (created.subscription.id, created.secret)
        except InvalidInput as exc:
            errors: dict[str, list[str]] = {}
            for p in exc.problems:
                errors.setdefault(p.path[0] if p.path else "url", []).append(p.message)
            return await _list_page(request, visit, form=form, errors=errors, status=400)
        except DomainError as exc:
            return problem(visit, exc.message, _status(exc))
        return await _list_page(request, visit, secret=shown)

    @router.get(
        "/portal/admin/webhooks/{subscription_id}",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def delivery_log(request: Request, subscription_id: str) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        return await _log_page(request, visit, subscription_id)

    @router.post(
        "/portal/admin/webhooks/{subscription_id}/{action}",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def change(request: Request, subscription_id: str, action: str) -> Response:
        posted = await posted_form(request)
        if isinstance(posted, Response):
            return posted
        visit, form = posted
        found = parse_uuid(subscription_id)
        if found is None or action not in ("rotate", "delete", "redeliver"):
            return problem(visit, visit.t("error.not_found"), 404)
        secret = None
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                if action == "rotate":
                    secret = (await webhooks.rotate_secret(db, visit.principal, found)).secret
                elif action == "delete":
                    await webhooks.delete_subscription(db, visit.principal, found)
                else:
                    delivery = parse_uuid(form.get("delivery"))
                    if delivery is None:
                        raise NotFound("webhook delivery", str(form.get("delivery")))
                    await webhooks.subscription(db, visit.principal, found)
                    await webhooks.redeliver(db, visit.principal, delivery)
        except DomainError as exc:
            return problem(visit, exc.message, _status(exc))
        if action == "delete":
            return RedirectResponse("/portal/admin/webhooks", status_code=303)
        if secret is not None:
            return await _log_page(request, visit, subscription_id, secret=secret)
        return RedirectResponse(f"/portal/admin/webhooks/{found}", status_code=303)
