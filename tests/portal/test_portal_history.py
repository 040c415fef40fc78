"""The indicator page's score history and the charts page's top platforms, on a real database:
the figures are what the data implies, and what a viewer may not see moves neither."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from alliance.db import utcnow
from alliance.indicators import repository as indicators_repo
from alliance.indicators import service
from alliance.indicators.models import (
    IndicatorAssertion,
    IndicatorReaction,
    ReactionKind,
    TestBuyVerdict,
)
from alliance.indicators.score_history import assertion_fact, score_history, weekly_instants
from alliance.indicators.service import ReactionData
from alliance.indicators.summary import summarise
from alliance.portal import repository as portal_repo
from alliance.portal.charts_pages import platform_name
from tests.alliance.indicators.builders import submit_one, viewer
from tests.portal.conftest import Alliance
from tests.portal.test_portal_http import hidden, sign_in
from tests.portal.workers import in_transaction

SELLER_HALF_LIFE = 21.0
WEEK = timedelta(weeks=1)


def decayed(value: float, since: datetime, at: datetime) -> float:
    return value * 0.5 ** ((at - since).total_seconds() / 86_400 / SELLER_HALF_LIFE)


async def backdate(session: Any, model: Any, row_id: Any, at: datetime, **extra: Any) -> None:
    await session.execute(
        update(model).where(model.id == row_id).values(created_at=at, updated_at=at, **extra)
    )


async def seller_with_reactions(session: Any, demo: dict[str, Any], now: datetime) -> Any:
    """Acme's shopee seller (confidence 70, seen three weeks ago), then a week later a seen-too
    from the police that all may see, and a week after that a test buy and a takedown by
    shopmart that only shopmart may see."""
    orgs = demo["orgs"]
    made = await submit_one(session, orgs["acme-motors"], confidence=70)
    assertion = made.assertion
    seen = await service.react(
        session,
        await viewer(session, orgs["city-police"]),
        assertion.id,
        ReactionData(kind=ReactionKind.SEEN_TOO, platform="lazada"),
    )
    shopmart = await viewer(session, orgs["shopmart"])
    bought = await service.react(
        session,
        shopmart,
        assertion.id,
        ReactionData(
            kind=ReactionKind.CONFIRMED_BY_TEST_BUY,
            platform="shopee",
            order_number="SO-7",
            occurred_at=now,
            verdict=TestBuyVerdict.COUNTERFEIT,
            distribution="ORGANISATION",
        ),
    )
    down = await service.react(
        session,
        shopmart,
        assertion.id,
        ReactionData(
            kind=ReactionKind.TAKEN_DOWN,
            platform="Shopee",
            platform_action="store closed",
            occurred_at=now,
            distribution="ORGANISATION",
        ),
    )
    t0 = now - 3 * WEEK - timedelta(hours=1)
    await backdate(session, IndicatorAssertion, assertion.id, t0, first_seen_at=t0, last_seen_at=t0)
    await backdate(session, IndicatorReaction, seen[0].id, t0 + WEEK)
    await backdate(session, IndicatorReaction, bought[0].id, t0 + 2 * WEEK)
    await backdate(session, IndicatorReaction, down[0].id, t0 + 2 * WEEK)
    # Shopmart's own seller on Taobao, for itself alone.
    await submit_one(
        session, orgs["shopmart"], value="taobao:4711", distribution="ORGANISATION", tlp="AMBER"
    )
    found = (made.indicator.id, made.indicator.type)
    session.expire_all()
    return found


async def history_of(session: Any, who: Any, indicator: Any, now: datetime) -> list[Any]:
    indicator_id, type = indicator
    assertions = await indicators_repo.visible_assertions_of(session, who, [indicator_id])
    reactions = await portal_repo.reactions_for_history(session, who, indicator_id)
    return score_history(
        type,
        [assertion_fact(a) for a in assertions],
        reactions,
        weekly_instants(now, 12),
        half_life_days={"seller_account": SELLER_HALF_LIFE},
    )


async def test_the_history_counts_only_what_the_viewer_sees(session, demo) -> None:
    now = utcnow()
    indicator = await seller_with_reactions(session, demo, now)
    t0 = now - 3 * WEEK - timedelta(hours=1)
    acme = await viewer(session, demo["orgs"]["acme-motors"])
    shopmart = await viewer(session, demo["orgs"]["shopmart"])

    seen = [p.score for p in await history_of(session, acme, indicator, now)]
    # 0.7, then one corroboration: 0.7 + 0.3 * 0.3 * 0.5 = 0.745; decaying from t0 throughout.
    assert seen[:9] == [None] * 9
    assert seen[9:] == pytest.approx(
        [decayed(v, t0, now - k * WEEK) for v, k in ((70, 3), (74.5, 2), (74.5, 1), (74.5, 0))],
        abs=0.01,
    )
    # Shopmart sees its own test buy too: 0.745 + 0.255 * 0.6 * 0.5 = 0.8215 from t0 + 2 weeks.
    with_buy = [p.score for p in await history_of(session, shopmart, indicator, now)]
    assert with_buy[:11] == seen[:11]
    assert with_buy[11:] == pytest.approx(
        [decayed(82.15, t0, now - WEEK), decayed(82.15, t0, now)], abs=0.01
    )

    # The last point is today's score as the indicator's summary computes it, for each viewer.
    for who, history in ((acme, seen), (shopmart, with_buy)):
        indicator_id, type = indicator
        assertions = await indicators_repo.visible_assertions_of(session, who, [indicator_id])
        tally = (await indicators_repo.visible_tallies(session, who, [indicator_id]))[indicator_id]
        today = summarise(
            type,
            assertions,
            tally,
            now=now,
            half_life_days={"seller_account": SELLER_HALF_LIFE},
        )
        assert today is not None
        assert history[-1] == today.score


async def test_top_platforms_count_only_what_the_viewer_sees(session, demo) -> None:
    now = utcnow()
    await seller_with_reactions(session, demo, now)
    since = now - 12 * WEEK

    async def top(org: str) -> Counter[str]:
        who = await viewer(session, demo["orgs"][org])
        return Counter(
            platform_name(p) for _, p in await portal_repo.platform_points(session, who, since)
        )

    # Acme: its seller account on Shopee and the police's sighting on Lazada; not shopmart's
    # takedown, nor its Taobao seller, nor the test buy (not a sighting of this chart).
    assert await top("acme-motors") == Counter({"Shopee": 1, "Lazada": 1})
    assert await top("shopmart") == Counter({"Shopee": 2, "Lazada": 1, "Taobao": 1})
    later = Counter(
        platform_name(p)
        for _, p in await portal_repo.platform_points(
            session, await viewer(session, demo["orgs"]["shopmart"]), now + timedelta(minutes=5)
        )
    )
    assert later == Counter()


def test_platform_names() -> None:
    assert platform_name("shopee") == "Shopee"
    assert platform_name(" Mercado-Libre ") == "Mercado Libre"
    assert platform_name("  corner   market ") == "corner market"


# --- the pages, over HTTP ---------------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def http(alliance: Alliance) -> httpx.Client:
    from tests.portal.conftest import ANALYST

    alliance.person(ANALYST)
    with alliance.http() as client:
        yield client


def test_the_indicator_page_draws_its_score_history_and_charts_rank_platforms(
    alliance: Alliance, http: httpx.Client
) -> None:
    ids = alliance.ids()

    async def hidden_seller(session: Any) -> None:
        who = await service.viewer_of_organisation(session, ids["shopmart"])
        from tests.alliance.indicators.builders import submission

        [result] = await service.submit(
            session,
            who,
            [submission(value="dhgate:31337", distribution="ORGANISATION", tlp="AMBER")],
        )
        assert result.error is None, result.error

    in_transaction(alliance, hidden_seller)
    sign_in(http)
    page = http.get("/portal/indicators/new")
    csrf = hidden(page.text)["csrf_token"]
    group = re.search(r'<option value="([0-9a-f-]{36})">Automotive Parts', page.text)
    assert group is not None
    made = http.post(
        "/portal/indicators/new",
        data={
            "csrf_token": csrf,
            "type": "seller_account",
            "value": "https://shopee.sg/shop/90210",
            "working_group": group.group(1),
            "confidence": "60",
        },
    )
    assert made.status_code == 303, made.text
    shown = http.get(made.headers["location"])
    assert shown.status_code == 200
    figure = shown.text.split('id="score-history"', 1)[1].split("</figure>", 1)[0]
    svg = ET.fromstring(figure[figure.index("<svg") : figure.index("</svg>") + len("</svg>")])
    points = [c.find(f"{SVG}title").text for c in svg.iter(f"{SVG}circle")]
    assert len(points) == 1, points  # made just now
    assert points[0].endswith(": 60.00")
    rows = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td><td>([^<]*)</td></tr>", figure)
    assert len(rows) == 13
    assert [score for _, score in rows] == ["—"] * 12 + ["60.00"]

    charts = http.get("/portal/charts")
    assert charts.status_code == 200
    assert charts.text.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 4
    assert "Top platforms" in charts.text
    platforms = charts.text.split("Top platforms", 1)[1].split("</figure>", 1)[0]
    assert "<title>Shopee: 1</title>" in platforms
    assert "DHgate" not in platforms
