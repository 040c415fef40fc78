"""Submitting indicators: one canonical indicator per value, one assertion per organisation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from alliance.indicators import service
from alliance.indicators.models import Indicator, IndicatorAssertion
from tests.alliance.indicators.builders import submission, viewer


async def count(session: Any, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)))


async def test_two_organisations_same_value_in_different_forms_one_indicator_two_assertions(
    session, demo: dict[str, Any]
) -> None:
    acme, shopmart = demo["orgs"]["acme-motors"], demo["orgs"]["shopmart"]

    [first] = await service.submit(
        session, await viewer(session, acme), [submission(value="https://shopee.cn/shop/123456789")]
    )
    [second] = await service.submit(
        session,
        await viewer(session, shopmart),
        [submission(value="123456789", parts={"platform": "Shopee"})],
    )

    assert first.error is None
    assert second.error is None
    assert first.indicator.id == second.indicator.id
    assert first.indicator.value == "shopee:123456789"
    assert first.assertion.id != second.assertion.id
    assert first.created
    assert second.created
    assert await count(session, Indicator) == 1
    assert await count(session, IndicatorAssertion) == 2
