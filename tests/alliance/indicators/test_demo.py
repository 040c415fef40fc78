"""The demo indicators: a seller network, an allowlisted official store, a test-bought seller."""

from __future__ import annotations

from alliance.db import unit_of_work
from alliance.demo import seed
from alliance.indicators import repository as repo
from alliance.indicators import service
from alliance.indicators.demo import OFFICIAL_STORE, REPORT_LINES
from alliance.indicators.models import IndicatorReaction, ReactionKind
from alliance.orgs import repository as orgs_repo
from tests.alliance.indicators.builders import submission


async def test_the_demo_shows_a_network_an_allowlist_and_a_test_buy(sessions) -> None:
    async with unit_of_work(sessions) as s:
        first = await seed(s, with_indicators=True)
    async with unit_of_work(sessions) as s:
        again = await seed(s, with_indicators=True)
    assert (
        len(
            [
                line
                for line in first.created
                if "indicator" in line or "allowlist" in line or "test buy" in line
            ]
        )
        == REPORT_LINES
    )
    assert again.created == []

    async with sessions() as s:
        police = await orgs_repo.organisation_by_slug(s, "city-police")
        viewer = await service.viewer_of_organisation(s, police.id)
        shop = await service.lookup(s, viewer, "seller_account", "shopee:58200417")
        network = await service.seller_network(s, viewer, shop.id)
        values = {i.value for i in network.indicators}
        assert {"shopee:58200417", "taobao:106532", "+8675526881234"} <= values
        assert "wallet:alipay:13800138000" in values

        [refused] = await service.submit(
            s, viewer, [submission(type="storefront_url", value=OFFICIAL_STORE)]
        )
        assert refused.error.problems[0].code == "ALLOWLISTED"
        assert "Luxe House official web store" in refused.error.problems[0].message

        bought = await service.lookup(s, viewer, "seller_account", "shopee:77310288")
        [assertion] = await repo.visible_assertions_of(s, viewer, [bought.id])
        windows = await repo.windowed_visible(
            s, viewer, IndicatorReaction, assertion_ids=[assertion.id], after=None, limit=10
        )
        kinds = {r.kind for r in windows[assertion.id][0]}
        assert ReactionKind.CONFIRMED_BY_TEST_BUY in kinds
