"""Corrections proposed to another organisation's assertion, and the owner's inbox of them
(accept, reject with a reason), through ``alliance.indicators.service``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from alliance.auth.route_access import declare
from alliance.config import Settings
from alliance.db import unit_of_work
from alliance.errors import DomainError, InvalidInput
from alliance.indicators import service as indicators
from alliance.portal import repository as repo
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
from alliance.sharing.service import load_viewer


def _status(exc: DomainError) -> int:
    return {"FORBIDDEN": 403, "NOT_FOUND": 404, "CONFLICT": 409}.get(exc.code, 400)


async def _inbox(
    request: Request, visit: Visit, errors: dict[str, list[str]] | None = None, status: int = 200
) -> Response:
    async with unit_of_work(request.app.state.sessions) as db:
        viewer = await load_viewer(db, visit.principal)
        pending = await repo.pending_proposals_to(db, viewer)
    return render(visit, "proposals.html", status=status, pending=pending, errors=errors or {})


def add_proposal_pages(router: APIRouter) -> None:
    @router.get("/portal/proposals", dependencies=declare(PORTAL_SESSION), include_in_schema=False)
    async def inbox(request: Request) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        return await _inbox(request, visit)

    @router.post(
        "/portal/proposals/{proposal_id}/{decision}",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def decide(request: Request, proposal_id: str, decision: str) -> Response:
        posted = await posted_form(request)
        if isinstance(posted, Response):
            return posted
        visit, form = posted
        found = parse_uuid(proposal_id)
        if found is None or decision not in ("accept", "reject"):
            return problem(visit, visit.t("error.not_found"), 404)
        settings: Settings = request.app.state.settings
        reason = form.get("reason", "")
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                viewer = await load_viewer(db, visit.principal)
                if decision == "accept":
                    await indicators.accept_proposal(
                        db, viewer, found, reason=reason or None, settings=settings.indicators
                    )
                else:
                    await indicators.reject_proposal(db, viewer, found, reason=reason)
        except InvalidInput as exc:
            messages = [p.message for p in exc.problems]
            return await _inbox(request, visit, {str(found): messages}, status=400)
        except DomainError as exc:
            return problem(visit, exc.message, _status(exc))
        return RedirectResponse("/portal/proposals", status_code=303)

    @router.post(
        "/portal/indicators/{indicator_id}/propose",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def propose(request: Request, indicator_id: str) -> Response:
        from alliance.portal.pages import indicator_page_for

        posted = await posted_form(request)
        if isinstance(posted, Response):
            return posted
        visit, form = posted
        assertion_id = parse_uuid(form.get("assertion"))
        raw_confidence = form.get("confidence", "").strip()
        errors: dict[str, list[str]] = {}
        if raw_confidence and not raw_confidence.isdigit():
            errors["p_confidence"] = [visit.t("submit.bad_number")]
        if assertion_id is None:
            errors["p_assertion"] = [visit.t("error.not_found")]
        if errors:
            return await indicator_page_for(request, visit, indicator_id, errors=errors)
        assert assertion_id is not None
        correction = indicators.Correction(
            confidence=int(raw_confidence) if raw_confidence else None,
            severity=form.get("severity") or None,
            note=form.get("note") or None,
        )
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                viewer = await load_viewer(db, visit.principal)
                await indicators.propose(
                    db, viewer, assertion_id, correction, reason=form.get("reason", "")
                )
        except InvalidInput as exc:
            for p in exc.problems:
                errors.setdefault(f"p_{p.path[-1] if p.path else 'reason'}", []).append(p.message)
            return await indicator_page_for(request, visit, indicator_id, errors=errors, status=400)
        except DomainError as exc:
            return await indicator_page_for(
                request, visit, indicator_id, errors={"p_reason": [exc.message]}, status=400
            )
        return RedirectResponse(f"/portal/indicators/{indicator_id}?proposed=1", status_code=303)
