"""Plain builders for indicator test data."""

from __future__ import annotations

from typing import Any

from alliance.indicators import service
from alliance.indicators.service import Submission


def submission(**overrides: Any) -> Submission:
    values: dict[str, Any] = {
        "type": "seller_account",
        "value": "https://shopee.cn/shop/123456789",
        "distribution": "ALLIANCE",
        "tlp": "GREEN",
        "confidence": 70,
        **overrides,
    }
    return Submission(**values)


async def viewer(session: Any, org: Any) -> Any:
    return await service.viewer_of_organisation(session, org.id)


async def submit_one(session: Any, org: Any, **overrides: Any) -> service.ItemResult:
    [result] = await service.submit(session, await viewer(session, org), [submission(**overrides)])
    assert result.error is None, result.error
    return result
