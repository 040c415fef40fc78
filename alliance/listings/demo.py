"""Demo rules and the category data they stand on, plus a sample catalogue to check.

The airbag rule is modelled on the 2014 ban of supplemental restraint system parts on
online marketplaces (after recalled and counterfeit inflators were found in cars): every
SRS component in motor vehicle parts is prohibited, whatever its condition. The car-seat
rule restricts a category to the brand's authorised sellers. ``demo-catalogue.jsonl``
exercises every match kind against these rules and the demo indicators.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.orgs.models import Organisation, WorkingGroup
from alliance.rules import repository as rules_repo
from alliance.rules import service as rules
from alliance.taxonomy import repository as taxonomy_repo
from alliance.taxonomy.service import import_taxonomy, map_platform_categories
from alliance.taxonomy.tree import PlatformCategory, packaged_taxonomy_lines, parse_taxonomy

MOTOR_VEHICLE_PARTS = 899
CAR_SEATS = 547
DEMO_PLATFORM = "shopee"
# The demo platform's own category ids.
PLATFORM_CATEGORIES = {
    "SP-100644": 8233,  # Motor Vehicle Interior Fittings (where sellers list airbag modules)
    "SP-100645": 2977,  # Motor Vehicle Braking
    "SP-200101": CAR_SEATS,
}
CATALOGUE = "demo-catalogue.jsonl"
# What the demo reports about this part: the tree, the platform map and the two rules.
REPORT_LINES = 4

AIRBAG_RULE: dict[str, Any] = {
    "name": "Supplemental restraint system (airbag) components",
    "description": (
        "All airbag modules, inflators, SRS control units, clock springs and seat-belt "
        "pretensioners, new, used or deployed: counterfeit and salvaged units fail to deploy "
        "or deploy with shrapnel. Modelled on the 2014 marketplace ban of SRS parts."
    ),
    "decision": "PROHIBIT",
    "rationale": "SAFETY",
    "category_ids": [MOTOR_VEHICLE_PARTS],
    "keywords": {
        "any_of": [
            "airbag",
            "air bag",
            "airbag module",
            "srs module",
            "srs airbag",
            "inflator",
            "clock spring",
            "pretensioner",
        ],
    },
    "evidence": [
        "https://www.nhtsa.gov/equipment/takata-recall-spotlight",
        "NHTSA consumer advisory on counterfeit airbags (2012)",
    ],
}

CAR_SEAT_RULE: dict[str, Any] = {
    "name": "Child car seats: authorised sellers only",
    "description": "Counterfeit child seats fail crash tests; only authorised sellers list them.",
    "decision": "RESTRICT",
    "rationale": "COUNTERFEIT",
    "category_ids": [CAR_SEATS],
    "exceptions": {
        "authorised_sellers": [
            {"platform": DEMO_PLATFORM, "seller_id": "acme-kids-official", "name": "ACME Kids"}
        ],
        "certification_ids": ["ECE R129"],
    },
}


def catalogue_text() -> str:
    return resources.files("alliance.listings").joinpath("data", CATALOGUE).read_text("utf-8")


async def seed_listings(
    session: AsyncSession,
    orgs: dict[str, Organisation],
    groups: dict[str, WorkingGroup],
    created: list[str],
) -> int:
    """Returns how many demo objects already existed."""
    existing = 0
    if await taxonomy_repo.count_categories(session) == 0:
        report = await import_taxonomy(session, None, parse_taxonomy(packaged_taxonomy_lines()))
        created.append(f"{report.created} taxonomy categories")
    else:
        existing += 1
    if not await taxonomy_repo.platform_maps(session, [DEMO_PLATFORM]):
        await map_platform_categories(
            session,
            None,
            DEMO_PLATFORM,
            [PlatformCategory(pid, cid) for pid, cid in PLATFORM_CATEGORIES.items()],
        )
        created.append(f"{len(PLATFORM_CATEGORIES)} {DEMO_PLATFORM} category mappings")
    else:
        existing += 1
    owner = orgs["acme-motors"]
    names = {r.name for r in await rules_repo.rules_of_owner(session, owner.id)}
    for definition in (AIRBAG_RULE, CAR_SEAT_RULE):
        if definition["name"] in names:
            existing += 1
            continue
        rule, _ = await rules.create_rule(
            session,
            None,
            working_group_id=groups["automotive-parts"].id,
            definition=definition,
            owner_org_id=owner.id,
            change_note="demo",
        )
        await rules.activate_rule(session, None, rule.id)
        created.append(f"active rule {definition['name']!r}")
    return existing
