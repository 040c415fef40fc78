"""Demo indicators: realistic values across the demo working groups, written through the
services like any other submission. Safe to run again: each organisation's batch carries an
idempotency key, and reactions and allowlist entries are made only with their first batch."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.db import utcnow
from alliance.indicators import repository as repo
from alliance.indicators import service
from alliance.indicators.models import AllowlistKind, ReactionKind, Severity, TestBuyVerdict
from alliance.indicators.service import AllowlistData, ReactionData, Submission
from alliance.orgs.models import Organisation, WorkingGroup

BATCH_KEY = "demo-indicators-v1"

# Two shops on two platforms, found in two cases, sharing a phone and an Alipay wallet:
# the seller network the demo shows.
AUTOMOTIVE = [
    {
        "type": "seller_account",
        "value": "https://shopee.cn/shop/58200417",
        "group_key": "case-AM-2026-014",
        "confidence": 85,
        "severity": Severity.CRITICAL,
        "brands": ("Acme Motors",),
        "product_category": "automotive.airbags",
        "note": "Sells 'OEM' airbag modules at a third of the list price.",
    },
    {
        "type": "phone",
        "value": "+86 755 2688 1234",
        "group_key": "case-AM-2026-014",
        "confidence": 80,
    },
    {
        "type": "payment_account",
        "value": "13800138000",
        "parts": {"kind": "wallet", "provider": "alipay"},
        "group_key": "case-AM-2026-014",
        "confidence": 75,
    },
    {
        "type": "seller_account",
        "value": "https://shop106532.taobao.com",
        "group_key": "case-AM-2026-019",
        "confidence": 70,
        "severity": Severity.HIGH,
        "brands": ("Acme Motors",),
        "product_category": "automotive.brake-pads",
    },
    {
        "type": "phone",
        "value": "0755-26881234",
        "country": "CN",
        "group_key": "case-AM-2026-019",
        "confidence": 80,
    },
    {
        "type": "payment_account",
        "value": "138 0013 8000",
        "parts": {"kind": "wallet", "provider": "Alipay"},
        "group_key": "case-AM-2026-019",
        "confidence": 75,
    },
    {
        "type": "waybill",
        "value": "SF1234567890123",
        "parts": {"carrier": "SF Express"},
        "group_key": "case-AM-2026-019",
        "confidence": 90,
    },
    {
        "type": "keyword",
        "value": "airbag module OEM cheap",
        "confidence": 60,
        "brands": ("Acme Motors",),
    },
    {"type": "brand_misspelling", "value": "Acrne Motors", "confidence": 90},
]

LUXURY = [
    {
        "type": "seller_account",
        "value": "https://shopee.cn/shop/77310288",
        "group_key": "test-buy-LH-2026-003",
        "confidence": 90,
        "severity": Severity.HIGH,
        "brands": ("Luxe House",),
        "product_category": "luxury.handbags",
    },
    {"type": "domain", "value": "luxe-house-outlet.shop", "confidence": 85},
    {
        "type": "image_phash",
        "value": "d1c4f0e8b2a39687",
        "group_key": "test-buy-LH-2026-003",
        "confidence": 70,
        "brands": ("Luxe House",),
    },
    {
        "type": "address",
        "value": "Room 5, 12 Huaqiang North Road, Futian, Shenzhen",
        "country": "CN",
        "group_key": "test-buy-LH-2026-003",
        "confidence": 65,
    },
]

ELECTRONICS = [
    {
        "type": "keyword",
        "value": "volt charger 65w original",
        "confidence": 55,
        "brands": ("Volt Electronics",),
    },
    {"type": "email", "value": "Volt.Official.Store@gmail.com", "confidence": 80},
    {
        "type": "seller_account",
        "value": "https://www.amazon.de/sp?seller=A2VOLT0FAKE123",
        "confidence": 75,
        "severity": Severity.HIGH,
        "brands": ("Volt Electronics",),
        "product_category": "electronics.chargers",
    },
]

OFFICIAL_STORE = "https://www.luxe-house.example/store"
# What ``seed_indicators`` reports: a line per organisation's batch, the allowlist entry and
# the test buy.
REPORT_LINES = 3 + 2

# Which organisation submits which list, in which working group.
SUBMITTERS = [
    ("acme-motors", "automotive-parts", AUTOMOTIVE),
    ("luxe-house", "luxury-goods", LUXURY),
    ("volt-electronics", "consumer-electronics", ELECTRONICS),
]


def _submissions(items: list[dict[str, Any]], group: WorkingGroup) -> list[Submission]:
    valid_until = utcnow().replace(microsecond=0) + timedelta(days=180)
    return [
        Submission(
            **{"tlp": "AMBER", "valid_until": valid_until, **item},
            working_group_id=group.id,
            distribution="WORKING_GROUP",
        )
        for item in items
    ]


async def seed_indicators(
    session: AsyncSession,
    orgs: dict[str, Organisation],
    groups: dict[str, WorkingGroup],
    created: list[str],
) -> int:
    """Adds one line to ``created`` per batch, the allowlist entry, and the reactions (there
    are :data:`REPORT_LINES`); returns how many of those were already there."""
    existing = 0
    results: dict[str, list[service.ItemResult]] = {}
    for org_slug, group_slug, items in SUBMITTERS:
        org = orgs[org_slug]
        if await repo.submission_batch(session, org.id, BATCH_KEY) is not None:
            existing += 1
            continue
        viewer = await service.viewer_of_organisation(session, org.id)
        results[org_slug] = await service.submit(
            session, viewer, _submissions(items, groups[group_slug]), idempotency_key=BATCH_KEY
        )
        created.append(f"{len(items)} indicators of {org_slug} in {group_slug}")

    if "luxe-house" in results:
        luxe = await service.viewer_of_organisation(session, orgs["luxe-house"].id)
        await service.add_allowlist_entry(
            session,
            luxe,
            AllowlistData(
                kind=AllowlistKind.OFFICIAL_STORE,
                type="storefront_url",
                value=OFFICIAL_STORE,
                brand="Luxe House",
                label="Luxe House official web store",
            ),
        )
        created.append(f"allowlist entry {OFFICIAL_STORE} of luxe-house")
        # The test-bought seller: ShopMart bought from it and confirms a counterfeit.
        shopmart = await service.viewer_of_organisation(session, orgs["shopmart"].id)
        seller = results["luxe-house"][0].assertion
        assert seller is not None
        await service.react(
            session,
            shopmart,
            seller.id,
            ReactionData(
                kind=ReactionKind.CONFIRMED_BY_TEST_BUY,
                platform="shopee",
                order_number="SM-2026-118842",
                occurred_at=utcnow().replace(microsecond=0) - timedelta(days=3),
                verdict=TestBuyVerdict.COUNTERFEIT,
                evidence_url="https://evidence.shopmart.example/test-buys/SM-2026-118842.pdf",
            ),
        )
        police = await service.viewer_of_organisation(session, orgs["city-police"].id)
        await service.react(
            session,
            police,
            seller.id,
            ReactionData(kind=ReactionKind.SEEN_TOO, platform="shopee", count=4),
        )
        created.append("a test buy and a sighting of luxe-house's shopee seller")
    else:
        existing += 2
    return existing
