"""The portal's pages for signed-in people: home, indicators (list, page, submit)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.auth.route_access import declare
from alliance.config import Settings
from alliance.db import unit_of_work, utcnow
from alliance.errors import DomainError, InvalidInput
from alliance.guides import repository as guides_repo
from alliance.guides.models import GuideStatus
from alliance.indicators import repository as indicators_repo
from alliance.indicators import score_history
from alliance.indicators import service as indicators
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.models import ReactionKind, Severity
from alliance.indicators.normalise import normalise
from alliance.orgs import repository as orgs_repo
from alliance.portal import charts
from alliance.portal import repository as portal_repo
from alliance.portal.http import (
    HEADERS,
    PORTAL_SESSION,
    Visit,
    parse_uuid,
    posted_form,
    problem,
    render,
    sign_in_redirect,
    visit_of,
)
from alliance.rules import repository as rules_repo
from alliance.rules.definition import RuleStatus
from alliance.sharing import TLP
from alliance.sharing.service import load_viewer

RECENT_PER_GROUP = 5
HISTORY_WEEKS = 12
MAX_PREVIEW = 4096
GUIDES_SCANNED = 200


def needs_review(guide: Any, today: date) -> bool:
    """Stale (a newer source or an expired review date was noticed), or its review is due."""
    if guide.status == GuideStatus.ARCHIVED:
        return False
    return guide.stale_since is not None or (
        guide.review_by is not None and guide.review_by < today
    )


PAGE_SIZE = 50


async def groups_of(db: AsyncSession, viewer: Any) -> list[tuple[Any, str]]:
    """The viewer's working groups with its role in each, by name."""
    roles = {s.working_group_id: s.role.value for s in viewer.seats}
    found = await orgs_repo.working_groups_by_ids(db, list(roles))
    return sorted(((g, roles[g.id]) for g in found), key=lambda pair: pair[0].name)


def _field_errors(exc: InvalidInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for p in exc.problems:
        name = {"workingGroupId": "working_group"}.get(p.path[0] if p.path else "", None)
        key = name or (p.path[0] if p.path else "value")
        errors.setdefault(key, []).append(p.message)
    return errors


def add_pages(router: APIRouter) -> None:
    @router.get("/portal", dependencies=declare(PORTAL_SESSION), include_in_schema=False)
    async def home(request: Request) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return render(visit, "landing.html")
        today = utcnow().date()
        async with unit_of_work(request.app.state.sessions) as db:
            viewer = await load_viewer(db, visit.principal)
            groups = []
            for group, role in await groups_of(db, viewer):
                recent = await indicators_repo.page_visible_indicators(
                    db,
                    viewer,
                    indicators_repo.IndicatorFilter(working_group_ids=[group.id]),
                    newest_first=True,
                    after=None,
                    limit=RECENT_PER_GROUP,
                )
                in_force = await rules_repo.page_rules(
                    db,
                    viewer,
                    statuses=[RuleStatus.ACTIVE],
                    working_group_id=group.id,
                    after=None,
                    limit=RECENT_PER_GROUP,
                )
                guides = await guides_repo.page_guides(
                    db,
                    viewer,
                    statuses=None,
                    working_group_id=group.id,
                    after=None,
                    limit=GUIDES_SCANNED,
                )
                groups.append(
                    {
                        "group": group,
                        "role": role,
                        "indicators": recent.items,
                        "rules": in_force.items,
                        "guides": [g for g in guides.items if needs_review(g, today)][
                            :RECENT_PER_GROUP
                        ],
                    }
                )
            me = await orgs_repo.people_by_ids(db, [visit.principal.person_id])
        return render(visit, "home.html", groups=groups, me=me[0] if me else None)

    @router.get("/portal/indicators", dependencies=declare(PORTAL_SESSION), include_in_schema=False)
    async def indicator_list(
        request: Request, type: str = "", group: str = "", after: str = ""
    ) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        chosen_type = type if type in {t.value for t in IndicatorType} else ""
        async with unit_of_work(request.app.state.sessions) as db:
            viewer = await load_viewer(db, visit.principal)
            groups = await groups_of(db, viewer)
            group_id = parse_uuid(group)
            if group_id not in {g.id for g, _ in groups}:
                group_id = None
            filter = indicators_repo.IndicatorFilter(
                types=[IndicatorType(chosen_type)] if chosen_type else [],
                working_group_ids=[group_id] if group_id else [],
            )
            page = await indicators_repo.page_visible_indicators(
                db, viewer, filter, newest_first=True, after=parse_uuid(after), limit=PAGE_SIZE
            )
            total = await indicators_repo.count_visible_indicators(db, viewer, filter)
        return render(
            visit,
            "indicators.html",
            indicators=page.items,
            has_next=page.has_next_page,
            total=total,
            types=[t.value for t in IndicatorType],
            groups=groups,
            chosen_type=chosen_type,
            chosen_group=str(group_id) if group_id else "",
        )

    @router.get(
        "/portal/indicators/new", dependencies=declare(PORTAL_SESSION), include_in_schema=False
    )
    async def submit_form(request: Request) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        return await _submit_page(request, visit, {}, {})

    @router.get(
        "/portal/indicators/preview",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def preview(request: Request, type: str = "", value: str = "") -> Response:
        """The submit form's live preview: the value as the service would store it (the same
        normaliser), or the field's error. Reads nothing and writes nothing."""
        visit = await visit_of(request)
        if visit.principal is None:
            return JSONResponse({"error": "sign in"}, status_code=401, headers=HEADERS)
        if not value.strip() or len(value) > MAX_PREVIEW:
            return JSONResponse({"value": None}, headers=HEADERS)
        try:
            found = normalise(type, value)
        except InvalidInput as exc:
            return JSONResponse({"error": exc.problems[0].message}, headers=HEADERS)
        return JSONResponse(
            {"value": found.value, "matchKeys": [list(k) for k in found.match_keys]},
            headers=HEADERS,
        )

    @router.post(
        "/portal/indicators/new", dependencies=declare(PORTAL_SESSION), include_in_schema=False
    )
    async def submit(request: Request) -> Response:
        posted = await posted_form(request)
        if isinstance(posted, Response):
            return posted
        visit, form = posted
        errors: dict[str, list[str]] = {}
        confidence = 50
        raw_confidence = form.get("confidence", "50").strip() or "50"
        if not raw_confidence.isdigit():
            errors["confidence"] = [visit.t("submit.bad_number")]
        else:
            confidence = int(raw_confidence)
        if errors:
            return await _submit_page(request, visit, form, errors, status=400)
        settings: Settings = request.app.state.settings
        submission = indicators.Submission(
            type=form.get("type", ""),
            value=form.get("value", ""),
            working_group_id=parse_uuid(form.get("working_group")),
            tlp=form.get("tlp", TLP.AMBER.value),
            confidence=confidence,
            severity=form.get("severity", Severity.MEDIUM.value),
            brands=[b.strip() for b in form.get("brands", "").split(",") if b.strip()],
            note=form.get("note", ""),
        )
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                viewer = await load_viewer(db, visit.principal)
                [result] = await indicators.submit(
                    db, viewer, [submission], settings=settings.indicators
                )
                if result.error is not None:
                    raise result.error
                assert result.indicator is not None
                indicator_id = result.indicator.id
        except InvalidInput as exc:
            return await _submit_page(request, visit, form, _field_errors(exc), status=400)
        except DomainError as exc:
            return await _submit_page(request, visit, form, {"value": [exc.message]}, status=400)
        return RedirectResponse(f"/portal/indicators/{indicator_id}?submitted=1", status_code=303)

    @router.get(
        "/portal/indicators/{indicator_id}",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def indicator_page(request: Request, indicator_id: str, submitted: str = "") -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        notice = "submit.created" if submitted else None
        return await indicator_page_for(request, visit, indicator_id, notice=notice)

    @router.post(
        "/portal/indicators/{indicator_id}/react",
        dependencies=declare(PORTAL_SESSION),
        include_in_schema=False,
    )
    async def react(request: Request, indicator_id: str) -> Response:
        posted = await posted_form(request)
        if isinstance(posted, Response):
            return posted
        visit, form = posted
        assertion_id = parse_uuid(form.get("assertion"))
        if assertion_id is None:
            return await indicator_page_for(
                request, visit, indicator_id, errors={"assertion": [visit.t("error.not_found")]}
            )
        settings: Settings = request.app.state.settings
        data = indicators.ReactionData(
            kind=form.get("kind", ""),
            platform=form.get("platform") or None,
            reason=form.get("reason") or None,
        )
        try:
            async with unit_of_work(request.app.state.sessions) as db:
                viewer = await load_viewer(db, visit.principal)
                await indicators.react(db, viewer, assertion_id, data, settings=settings.indicators)
        except InvalidInput as exc:
            errors: dict[str, list[str]] = {}
            for p in exc.problems:
                errors.setdefault(p.path[-1] if p.path else "kind", []).append(p.message)
            return await indicator_page_for(request, visit, indicator_id, errors=errors, status=400)
        except DomainError as exc:
            return await indicator_page_for(
                request, visit, indicator_id, errors={"kind": [exc.message]}, status=400
            )
        return RedirectResponse(f"/portal/indicators/{indicator_id}?reacted=1", status_code=303)


async def indicator_page_for(
    request: Request,
    visit: Visit,
    indicator_id: str,
    *,
    notice: str | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> Response:
    found_id = parse_uuid(indicator_id)
    if found_id is None:
        return problem(visit, visit.t("error.not_found"), 404)
    if request.query_params.get("reacted"):
        notice = "react.done"
    if request.query_params.get("proposed"):
        notice = "propose.done"
    async with unit_of_work(request.app.state.sessions) as db:
        viewer = await load_viewer(db, visit.principal)
        indicator = await indicators_repo.visible_indicator(db, viewer, found_id)
        if indicator is None:
            return problem(visit, visit.t("error.not_found"), 404)
        assertions = await indicators_repo.visible_assertions_of(db, viewer, [found_id])
        tally = (await indicators_repo.visible_tallies(db, viewer, [found_id])).get(found_id)
        names = {g.id: g.name for g, _ in await groups_of(db, viewer)}
        settings: Settings = request.app.state.settings
        network = await indicators.seller_network(
            db, viewer, found_id, settings=settings.indicators
        )
        reactions = await portal_repo.reactions_for_history(db, viewer, found_id)
    history = score_history.score_history(
        indicator.type,
        [score_history.assertion_fact(a) for a in assertions],
        reactions,
        score_history.weekly_instants(utcnow(), HISTORY_WEEKS),
        half_life_days=settings.indicators.half_life_days,
    )
    # Built by charts.py, which escapes every label itself.
    history_chart = Markup(
        charts.score_line(
            visit.t("indicators.history"),
            [(p.at, p.score) for p in history],
            empty=visit.t("home.none"),
        )
    )
    graph = None
    if network is not None and network.links:
        # Built by charts.py, which escapes every label itself.
        graph = Markup(
            charts.network_graph(
                visit.t("indicators.network"),
                [(str(i.id), i.type.value, i.value) for i in network.indicators],
                [
                    (
                        str(link.source_indicator_id),
                        str(link.target_indicator_id),
                        link.reason.value,
                    )
                    for link in network.links
                ],
                centre=str(found_id),
            )
        )
    return render(
        visit,
        "indicator.html",
        status=status,
        indicator=indicator,
        assertions=assertions,
        tally=tally,
        group_names=names,
        notice=notice,
        errors=errors or {},
        reaction_kinds=[k.value for k in ReactionKind],
        severities=[v.value for v in Severity],
        own_org=visit.principal.organisation_id if visit.principal else None,
        graph=graph,
        truncated=network is not None and network.truncated,
        history=history,
        history_chart=history_chart,
    )


async def _submit_page(
    request: Request,
    visit: Visit,
    form: dict[str, str],
    errors: dict[str, list[str]],
    status: int = 200,
) -> Response:
    async with unit_of_work(request.app.state.sessions) as db:
        viewer = await load_viewer(db, visit.principal)
        groups = await groups_of(db, viewer)
    return render(
        visit,
        "submit.html",
        status=status,
        form=form,
        errors=errors,
        types=[t.value for t in IndicatorType],
        groups=groups,
        tlps=[t.value for t in TLP],
        severities=[s.value for s in Severity],
        new_id=uuid.uuid4,
    )
