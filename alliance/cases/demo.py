"""The demo case: two test buys of Acme Motors from its demo seller network, a case over the
network referred to City Police with ShopMart's sales records, accepted and closed with an
outcome. Written through the services; safe to run again (found by its reference)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.cases import evidence_store, service
from alliance.cases import repository as repo
from alliance.cases.models import EvidenceKind
from alliance.db import utcnow
from alliance.indicators import repository as indicators_repo
from alliance.indicators import service as indicators
from alliance.indicators.models import TestBuyVerdict
from alliance.orgs import repository as orgs_repo
from alliance.orgs.models import Organisation, WorkingGroup
from alliance.sharing.policy import Viewer

CASE_REFERENCE = "AM-2026-014"
# What ``seed_cases`` reports: the test buys, and the case.
REPORT_LINES = 2


@dataclass(frozen=True)
class DemoBuy:
    seller: str
    platform: str
    order_number: str
    amount: str
    waybill: str | None
    days_ago: int
    receipt: bytes


BUYS = [
    DemoBuy(
        seller="https://shopee.cn/shop/58200417",
        platform="shopee",
        order_number="AM-TB-2026-031",
        amount="412.00",
        waybill="SF1234567890123",
        days_ago=12,
        receipt=b"Shopee order AM-TB-2026-031\nAirbag module 'OEM' x1\nPaid CNY 412.00\n",
    ),
    DemoBuy(
        seller="https://shop106532.taobao.com",
        platform="taobao",
        order_number="AM-TB-2026-032",
        amount="96.50",
        waybill=None,
        days_ago=9,
        receipt=b"Taobao order AM-TB-2026-032\nBrake pads 'Acme original' x4\nPaid CNY 96.50\n",
    ),
]

SALES_RECORDS = (
    b"order_id,listing_id,date,amount,currency\n"
    b"SM-88120,58200417-3,2026-03-02,398.00,CNY\n"
    b"SM-90233,58200417-3,2026-05-19,405.00,CNY\n"
    b"SM-93310,58200417-7,2026-08-11,412.00,CNY\n"
)


async def _own_assertion_id(session: AsyncSession, viewer: Viewer, value: str) -> uuid.UUID:
    found = await indicators.lookup(session, viewer, "seller_account", value)
    assert found is not None, f"the demo indicator {value} is missing"
    assertions = await indicators_repo.visible_assertions_of(session, viewer, [found.id])
    return next(a.id for a in assertions if a.owner_org_id == viewer.organisation_id)


async def seed_cases(
    session: AsyncSession,
    orgs: dict[str, Organisation],
    groups: dict[str, WorkingGroup],
    created: list[str],
    data_dir: Path,
) -> int:
    """Adds :data:`REPORT_LINES` lines to ``created``; returns how many were already there."""
    acme_org = orgs["acme-motors"]
    if await repo.case_by_reference(session, acme_org.id, CASE_REFERENCE) is not None:
        return REPORT_LINES
    acme = await indicators.viewer_of_organisation(session, acme_org.id)
    shopmart = await indicators.viewer_of_organisation(session, orgs["shopmart"].id)
    police = await indicators.viewer_of_organisation(session, orgs["city-police"].id)
    analyst = await orgs_repo.person_by_email(session, "analyst@acme-motors.example")
    group = groups["automotive-parts"]
    now = utcnow().replace(microsecond=0)
    actor = "demo@acme-motors"

    buys = []
    for spec in BUYS:
        receipt = await evidence_store.store_bytes(data_dir, spec.receipt)
        buy = await service.record_test_buy(
            session,
            acme,
            service.TestBuyData(
                purchased_at=now - timedelta(days=spec.days_ago),
                platform=spec.platform,
                seller=spec.seller,
                order_number=spec.order_number,
                verdict=TestBuyVerdict.COUNTERFEIT,
                working_group_id=group.id,
                buyer_person_id=analyst.id if analyst else None,
                buyer_name="Ada Analyst",
                listing_url=spec.seller,
                price=service.Money(spec.amount, "CNY"),
                shipping_address="Acme Motors test-buy desk, 8 Werkstrasse, 70173 Stuttgart, DE",
                waybill=spec.waybill,
                guide_reference="Acme Motors airbag and brake identification guide",
                features_checked=["hologram label", "serial number format", "packaging print"],
                confirms_assertion_ids=[await _own_assertion_id(session, acme, spec.seller)],
                attachments=[
                    service.Attachment(
                        receipt,
                        f"receipt-{spec.order_number}.txt",
                        "text/plain",
                        EvidenceKind.RECEIPT,
                        "order confirmation",
                    )
                ],
            ),
            actor=actor,
        )
        buys.append(buy)
    created.append(f"{len(buys)} test buys of acme-motors")

    network_start = await indicators.lookup(session, acme, "seller_account", BUYS[0].seller)
    assert network_start is not None
    case = await service.open_case(
        session,
        acme,
        service.CaseData(
            reference=CASE_REFERENCE,
            title="Counterfeit airbag modules and brake pads sold on Shopee and Taobao",
            jurisdiction="CN-GD",
            summary="Two shops sharing a phone number and an Alipay wallet; both test buys counterfeit.",
            working_group_id=group.id,
            seller_network_indicator_id=network_start.id,
            test_buy_ids=[b.id for b in buys],
        ),
        actor=actor,
    )
    await service.add_to_case(
        session, acme, case.id, organisation_ids=[orgs["shopmart"].id], actor=actor
    )
    records = await evidence_store.store_bytes(data_dir, SALES_RECORDS)
    await service.attach_sales_records(
        session,
        shopmart,
        case.id,
        service.Attachment(
            records,
            "shopmart-sales-58200417.csv",
            "text/csv",
            EvidenceKind.SALES_RECORDS,
            "Orders of shop 58200417 on ShopMart",
        ),
        period_start=(now - timedelta(days=300)).date(),
        period_end=now.date(),
        actor="demo@shopmart",
    )
    await service.refer_case(
        session, acme, case.id, orgs["city-police"].id, note="Safety-critical parts.", actor=actor
    )
    await service.accept_case(session, police, case.id, actor="demo@city-police")
    await service.close_case(
        session,
        police,
        case.id,
        service.Outcome(
            suspects=2,
            seized_value=service.Money("480000.00", "CNY"),
            sites_closed=2,
            prosecutions=1,
            note="Warehouse raided in Shenzhen; 1,900 airbag modules seized.",
        ),
        actor="demo@city-police",
    )
    created.append(
        f"case {CASE_REFERENCE} of acme-motors, referred to city-police, accepted and closed"
    )
    return 0
