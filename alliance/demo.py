"""The demo alliance: seeded once by ``make run``, safe to run again (nothing is duplicated)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.cases.demo import seed_cases
from alliance.config import Settings
from alliance.guides.demo import seed_guides
from alliance.indicators.demo import seed_indicators
from alliance.listings.demo import seed_listings
from alliance.orgs import repository as repo
from alliance.orgs import service
from alliance.orgs.models import MembershipRole, OrganisationKind
from alliance.portal.demo import seed_demo_accounts

ORGANISATIONS = [
    ("acme-motors", "Acme Motors", OrganisationKind.BRAND, "DE"),
    ("luxe-house", "Luxe House", OrganisationKind.BRAND, "FR"),
    ("volt-electronics", "Volt Electronics", OrganisationKind.BRAND, "KR"),
    ("shopmart", "ShopMart Marketplace", OrganisationKind.PLATFORM, "CN"),
    ("city-police", "City Police Economic Crime Unit", OrganisationKind.ENFORCEMENT, "CN"),
    ("guild-of-trainers", "Guild of Product Trainers", OrganisationKind.TRAINER, "GB"),
    ("alliance-office", "Alliance Office", OrganisationKind.ASSOCIATION, "CN"),
]

WORKING_GROUPS = [
    (
        "automotive-parts",
        "Automotive Parts",
        "automotive",
        "Counterfeit safety-critical car parts: airbags, brake pads, filters, bearings.",
    ),
    (
        "luxury-goods",
        "Luxury Goods",
        "luxury",
        "Counterfeit handbags, watches, jewellery and leather goods.",
    ),
    (
        "consumer-electronics",
        "Consumer Electronics",
        "electronics",
        "Counterfeit chargers, batteries, earphones and phones.",
    ),
]

CHAIR, MEMBER, OBSERVER = MembershipRole.CHAIR, MembershipRole.MEMBER, MembershipRole.OBSERVER
MEMBERSHIPS = {
    "automotive-parts": {
        "acme-motors": CHAIR,
        "shopmart": MEMBER,
        "city-police": MEMBER,
        "guild-of-trainers": MEMBER,
        "alliance-office": OBSERVER,
    },
    "luxury-goods": {
        "luxe-house": CHAIR,
        "shopmart": MEMBER,
        "city-police": MEMBER,
        "guild-of-trainers": MEMBER,
        "alliance-office": OBSERVER,
    },
    "consumer-electronics": {
        "volt-electronics": CHAIR,
        "shopmart": MEMBER,
        "city-police": OBSERVER,
        "guild-of-trainers": MEMBER,
        "alliance-office": OBSERVER,
    },
}

PEOPLE = [
    ("acme-motors", "analyst@acme-motors.example", "Ada Analyst"),
    ("luxe-house", "brand.protection@luxe-house.example", "Louis Protection"),
    ("volt-electronics", "security@volt-electronics.example", "Vera Volt"),
    ("shopmart", "trust@shopmart.example", "Sam Trust"),
    ("city-police", "investigator@city-police.example", "Inspector Chen"),
    ("guild-of-trainers", "trainer@guild-of-trainers.example", "Tess Trainer"),
    ("alliance-office", "operator@alliance-office.example", "Olive Operator"),
]


@dataclass
class DemoReport:
    created: list[str] = field(default_factory=list)
    existing: int = 0


async def seed(
    session: AsyncSession,
    *,
    with_indicators: bool = False,
    with_guides: bool = False,
    settings: Settings | None = None,
    demo_password: str | None = None,
) -> DemoReport:
    """The directory; ``with_indicators`` adds the demo indicators, ``with_guides`` the demo
    identification guides (their photos need ``settings``): ``alliance demo`` does both."""
    report = DemoReport()
    orgs = {}
    for slug, name, kind, country in ORGANISATIONS:
        org = await repo.organisation_by_slug(session, slug)
        if org is None:
            org = await service.create_organisation(
                session,
                None,
                service.OrganisationData(
                    slug=slug, name=name, kind=kind, country=country, verified=True
                ),
            )
            report.created.append(f"organisation {slug}")
        else:
            report.existing += 1
        orgs[slug] = org
    groups = {}
    for slug, name, sector, charter in WORKING_GROUPS:
        group = await repo.working_group_by_slug(session, slug)
        if group is None:
            group = await service.create_working_group(
                session,
                None,
                service.WorkingGroupData(slug=slug, name=name, sector=sector, charter=charter),
            )
            report.created.append(f"working group {slug}")
        else:
            report.existing += 1
        groups[slug] = group
        for org_slug, role in MEMBERSHIPS[slug].items():
            if await repo.membership(session, group.id, orgs[org_slug].id) is None:
                await service.add_working_group_member(
                    session,
                    None,
                    working_group_id=group.id,
                    organisation_id=orgs[org_slug].id,
                    role=role,
                )
                report.created.append(f"membership {org_slug} in {slug} ({role.value.lower()})")
            else:
                report.existing += 1
    for org_slug, email, display_name in PEOPLE:
        if await repo.person_by_email(session, email) is None:
            await service.create_person(
                session,
                None,
                organisation_id=orgs[org_slug].id,
                email=email,
                display_name=display_name,
            )
            report.created.append(f"person {email}")
        else:
            report.existing += 1
    if demo_password is not None:
        # Sign-in accounts for the portal; a password someone already set is kept.
        report.existing += await seed_demo_accounts(session, demo_password, report.created)
    if with_indicators:
        report.existing += await seed_indicators(session, orgs, groups, report.created)
        # The rules and category data the listing check stands on (and its sample catalogue).
        report.existing += await seed_listings(session, orgs, groups, report.created)
    if with_indicators and settings is not None:
        # The demo test buys and case (their evidence files live under the data dir).
        report.existing += await seed_cases(
            session, orgs, groups, report.created, settings.data_dir
        )
    if with_guides:
        report.existing += await seed_guides(
            session, orgs, groups, report.created, settings=settings
        )
    return report
