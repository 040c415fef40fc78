"""``/portal/charts``: indicators per week per working group, top brands, top platforms, and
takedowns and test buys over time, as server-rendered SVG of what the signed-in person may
see."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from alliance.auth.route_access import declare
from alliance.db import unit_of_work, utcnow
from alliance.indicators.models import ReactionKind
from alliance.indicators.platforms import find_platform
from alliance.portal import charts
from alliance.portal import repository as repo
from alliance.portal.http import PORTAL_SESSION, render, sign_in_redirect, visit_of
from alliance.portal.pages import groups_of
from alliance.sharing.service import load_viewer

WEEKS = 12


def platform_name(text: str) -> str:
    """A registered platform by its own name, however it was written; any other as typed."""
    found = find_platform(text)
    return found.name if found is not None else " ".join(text.split())


def add_chart_pages(router: APIRouter) -> None:
    @router.get("/portal/charts", dependencies=declare(PORTAL_SESSION), include_in_schema=False)
    async def chart_page(request: Request) -> Response:
        visit = await visit_of(request)
        if visit.principal is None:
            return sign_in_redirect(request)
        t = visit.t
        now = utcnow()
        weeks = charts.weeks_ending(now, WEEKS)
        async with unit_of_work(request.app.state.sessions) as db:
            viewer = await load_viewer(db, visit.principal)
            names = {g.id: g.name for g, _ in await groups_of(db, viewer)}
            assertions = await repo.assertion_points(db, viewer, weeks[0])
            reactions = await repo.reaction_points(
                db,
                viewer,
                weeks[0] - timedelta(days=1),
                [ReactionKind.TAKEN_DOWN, ReactionKind.CONFIRMED_BY_TEST_BUY],
            )
            sightings = await repo.platform_points(db, viewer, weeks[0])
        by_group = charts.per_week(
            (
                (names.get(g, t("charts.other")) if g else t("charts.none"), c)
                for g, c, _ in assertions
            ),
            weeks,
        )
        kind_names = {
            ReactionKind.TAKEN_DOWN: t("charts.takedowns"),
            ReactionKind.CONFIRMED_BY_TEST_BUY: t("charts.test_buys"),
        }
        by_kind = charts.per_week(((kind_names[k], w) for k, w in reactions), weeks)
        brands = charts.top(b for _, _, bs in assertions for b in bs)
        platforms = charts.top(platform_name(p) for _, p in sightings)
        svgs = [
            (
                t("charts.per_week"),
                charts.weekly_bars(t("charts.per_week"), weeks, by_group, ids="per-week-"),
            ),
            (t("charts.brands"), charts.ranked_bars(t("charts.brands"), brands, ids="brands-")),
            (
                t("charts.platforms"),
                charts.ranked_bars(t("charts.platforms"), platforms, ids="platforms-"),
            ),
            (
                t("charts.outcomes"),
                charts.weekly_bars(t("charts.outcomes"), weeks, by_kind, ids="outcomes-"),
            ),
        ]
        # The SVG is built by charts.py, which escapes every label itself.
        return render(visit, "charts.html", svgs=[(title, Markup(svg)) for title, svg in svgs])
