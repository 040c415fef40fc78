"""The listing-check playground: paste a listing, see the verdict and why, from the same
matcher the API's ``checkListings`` and ``/v1/listings/check`` use."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from alliance.auth.route_access import declare
from alliance.db import unit_of_work
from alliance.errors import DomainError, InvalidInput
from alliance.listings import service as listings
from alliance.listings.listing import parse_listing
from alliance.portal.http import (
    PORTAL_SESSION,
    posted_form,
    problem,
    render,
    sign_in_redirect,
    visit_of,
)

# The listing fields the playground offers (the API's names), in the order shown.
FIELDS = (
    "title",
    "description",
    "platform",
    "sellerId",
    "shopUrl",
    "listingUrl",
    "brand",
    "price",
    "currency",
    "country",
    "gtin",
    "phone",
    "email",
)


def add_playground(router: APIRouter) -> None:
    @router.get("/portal/check", dependencies=declare(PORTAL_SESSION), include_in_schema=False)
    async def playground(request: Request) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        return render(visit, "check.html", fields=FIELDS, form={}, errors={}, result=None)

    @router.post("/portal/check", dependencies=declare(PORTAL_SESSION), include_in_schema=False)
    async def check(request: Request) -> Response:
        posted = await posted_form(request)
        if isinstance(posted, Response):
            return posted
        visit, form = posted
        data = {name: form[name] for name in FIELDS if form.get(name, "").strip()}
        errors: dict[str, list[str]] = {}
        result = None
        try:
            listing = parse_listing(data)
            follower = getattr(request.app.state, "listing_matcher", None)
            if follower is None:
                return problem(visit, visit.t("check.not_running"), 503)
            async with unit_of_work(request.app.state.sessions) as db:
                viewer = await listings.checking_viewer(db, visit.principal)
            result = follower.matcher.check(viewer, listing)
        except InvalidInput as exc:
            for p in exc.problems:
                errors.setdefault(p.path[0] if p.path else "title", []).append(p.message)
        except DomainError as exc:
            return problem(visit, exc.message, 403 if exc.code == "FORBIDDEN" else 400)
        return render(
            visit,
            "check.html",
            status=400 if errors else 200,
            fields=FIELDS,
            form=form,
            errors=errors,
            result=result,
        )
