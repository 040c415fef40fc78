"""The import's set-based path writes exactly what ``submit`` writes for the same input: the same
refusals, indicators, match keys, assertions and change-log rows."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from alliance.changelog.service import pending_changes
from alliance.config import IndicatorSettings
from alliance.indicators import importing, service
from alliance.indicators.models import Indicator, IndicatorAssertion, IndicatorMatchKey
from tests.alliance.indicators.builders import submission, viewer

MOMENT = datetime(2026, 6, 1, 12, tzinfo=UTC)


def inputs(demo: dict[str, Any]) -> list[service.Submission]:
    auto = demo["groups"]["automotive-parts"].id
    observed = demo["groups"]["consumer-electronics"].id  # city-police only observes it
    return [
        submission(value="https://shopee.cn/shop/1001"),
        submission(
            type="waybill",
            value="RR123456785CN",
            parts={"carrier": "China Post"},
            working_group_id=auto,
            distribution="WORKING_GROUP",
            tlp="AMBER",
        ),  # fmt: skip
        submission(type="phone", value="138 0013 8000", country="CN", brands=["Acme", "acme"]),
        submission(
            type="address",
            value="1 Main St, London SW1A 1AA",
            country="GB",
        ),  # fmt: skip
        submission(
            type="keyword",
            value="Ｆａｋｅ  Airbag",
            tags=["x", "Y"],
            note="n",
            evidence_links=["https://e.example/1"],
            product_category="auto.airbags",
        ),  # fmt: skip
        submission(
            type="domain", value="fake.example", valid_until=MOMENT - timedelta(days=1)
        ),  # already expired  # fmt: skip
        submission(
            type="email",
            value="a@b.example",
            valid_from=MOMENT,
            valid_until=MOMENT + timedelta(days=30),
            severity="CRITICAL",
        ),  # fmt: skip
        # refused: by the normaliser, the checks, the seat, the allowlist
        submission(value="not a shop"),
        submission(type="ip", value="10.0.0.0/4"),
        submission(confidence=101, tlp="PURPLE"),
        submission(
            type="gtin",
            value="4006381333931",
            working_group_id=observed,
            distribution="WORKING_GROUP",
        ),  # fmt: skip
        submission(type="storefront_url", value="https://www.luxe-house.example/store"),
        # the full path: a group key, a value twice, an update of an existing assertion
        submission(value="https://shopee.cn/shop/2002", group_key="case-1"),
        submission(type="domain", value="case.example", group_key="case-1"),
        submission(type="keyword", value="twice"),
        submission(type="keyword", value="TWICE", confidence=90),
        submission(type="domain", value="existing.example", confidence=10),
        # a new assertion (another group) on an indicator that exists
        submission(
            type="domain",
            value="existing.example",
            working_group_id=auto,
            distribution="WORKING_GROUP",
        ),  # fmt: skip
    ]


def described(error: Exception | None) -> tuple[type, str] | None:
    # Each run registers its own allowlist entry; its id is the only difference.
    return error and (type(error), re.sub(r"entry [0-9a-f-]{36}", "entry …", str(error)))


async def snapshot(session: Any) -> dict[str, Any]:
    values = {i.id: (i.type, i.value) for i in await session.scalars(select(Indicator))}
    indicators = sorted(
        (
            (i.type, i.value, i.value_digest, i.details, i.version)
            for i in await session.scalars(select(Indicator))
        ),
        key=repr,
    )
    keys = sorted(
        (
            (values[k.indicator_id], k.name, k.value)
            for k in await session.scalars(select(IndicatorMatchKey))
        ),
        key=repr,
    )
    assertions = {}
    by_id = {}
    for a in await session.scalars(select(IndicatorAssertion)):
        key = (values[a.indicator_id], a.owner_org_id, a.working_group_id)
        by_id[str(a.id)] = key
        assertions[key] = {
            name: getattr(a, name)
            for name in IndicatorAssertion.__table__.columns.keys()  # noqa: SIM118
            if name not in ("id", "indicator_id", "created_at", "updated_at")
        }
    changes = sorted(
        (
            (by_id[c.object_id], c.kind, c.operation, c.version, c.distribution, c.tlp, c.previous)
            for c in pending_changes(session)
        ),
        key=repr,
    )
    return {"indicators": indicators, "keys": keys, "assertions": assertions, "changes": changes}


async def run(sessions: Any, demo: dict[str, Any], path: str) -> tuple[list[Any], dict[str, Any]]:
    police, luxe = demo["orgs"]["city-police"], demo["orgs"]["luxe-house"]
    async with sessions() as s:
        await service.add_allowlist_entry(
            s,
            await viewer(s, luxe),
            service.AllowlistData(
                kind="OFFICIAL_STORE",
                type="storefront_url",
                value="https://www.luxe-house.example/store",
                brand="Luxe House",
                label="web store",
            ),
        )
        await service.submit(
            s,
            await viewer(s, police),
            [submission(type="domain", value="existing.example")],
            now=MOMENT - timedelta(days=3),
        )
        await s.flush()
        s.sync_session.info.pop("alliance.pending_changes", None)  # only this run's changes
        who = await viewer(s, police)
        settings = IndicatorSettings()
        if path == "bulk":
            outcomes = await importing.bulk_submit(
                s, who, inputs(demo), settings=settings, now=MOMENT
            )
            summary = [(o.created, described(o.error)) for o in outcomes]
        else:
            results = await service.submit(s, who, inputs(demo), settings=settings, now=MOMENT)
            summary = [(r.created, described(r.error)) for r in results]
        await s.flush()
        state = await snapshot(s)
        await s.rollback()
    return summary, state


async def test_the_bulk_path_writes_what_submit_writes(sessions, demo: dict[str, Any]) -> None:
    bulk_summary, bulk = await run(sessions, demo, "bulk")
    submit_summary, submitted = await run(sessions, demo, "submit")

    assert bulk_summary == submit_summary
    assert [created for created, error in bulk_summary if error is None].count(True) >= 9
    assert sum(1 for _, error in bulk_summary if error) == 5, bulk_summary
    assert bulk["indicators"] == submitted["indicators"]
    assert bulk["keys"] == submitted["keys"]
    assert bulk["assertions"].keys() == submitted["assertions"].keys()
    for key, columns in bulk["assertions"].items():
        assert columns == submitted["assertions"][key], key
    assert bulk["changes"] == submitted["changes"]
