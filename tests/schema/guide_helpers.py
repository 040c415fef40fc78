"""Shared GraphQL documents and world-building for the guide tests."""

from __future__ import annotations

from typing import Any

from alliance.orgs import repository as orgs_repo
from schema.relay import to_global_id

ERRORS = """
  __typename
  ... on Error { message code }
  ... on ValidationError { fields { path code message } }
"""
GUIDE = """
  id title status version publishedVersion latestVersion readVersion language
  restrictedTiersVisible submittedBy approvedBy reviewNote stale
  translations { section status }
  owner { slug }
  content {
    title summaryHtml brands gtins
    features { id kind tier title text textHtml keywords photos { id caption url } }
    serialFormats { id name pattern examples }
    packaging packagingHtml
  }
"""
PAYLOAD = f"... on GuidePayload {{ guide {{ {GUIDE} }} }}"


def mutation(name: str, input_type: str) -> str:
    return f"mutation ($input: {input_type}!) {{ {name}(input: $input) {{ {ERRORS} {PAYLOAD} }} }}"


CREATE = mutation("createGuide", "CreateGuideInput")
UPDATE = mutation("updateGuideDraft", "UpdateGuideDraftInput")
SUBMIT = mutation("submitGuideForReview", "GuideTransitionInput")
APPROVE = mutation("approveGuide", "GuideTransitionInput")
REQUEST_CHANGES = mutation("requestGuideChanges", "GuideTransitionInput")
PUBLISH = mutation("publishGuide", "GuideTransitionInput")
ARCHIVE = mutation("archiveGuide", "GuideTransitionInput")
TRANSLATE = mutation("translateGuide", "TranslateGuideInput")
READ = f"""
query ($id: ID!, $version: Int, $language: String, $draft: Boolean! = false) {{
  guide(id: $id, version: $version, language: $language, draft: $draft) {{ {GUIDE} }}
}}
"""

AIRBAG = {
    "title": "Acme driver airbag module AB-200",
    "summary": "How to tell a **genuine** AB-200 module from a fake.",
    "brands": ["Acme Motors"],
    "productLines": ["AB-200"],
    "gtins": ["4006381333931"],
    "rights": {
        "registrations": [{"kind": "TRADEMARK", "number": "EU 018123456", "jurisdiction": "EU"}],
        "customsRecordations": [{"number": "CN-REC-2026-0042", "jurisdiction": "CN"}],
        "jurisdictions": ["EU", "CN"],
    },
    "contacts": [
        {
            "name": "Ada Analyst",
            "organisation": "Acme Motors",
            "languages": ["en", "de"],
            "hours": "Mon-Fri 09:00-17:00 CET",
            "reach": "brand-protection@acme-motors.example",
        }
    ],
    "features": [
        {
            "id": "label",
            "kind": "AUTHENTIC",
            "tier": "OVERT",
            "title": "Laser-etched label",
            "text": "The label is laser-etched, never printed.",
        },
        {
            "id": "uv-mark",
            "kind": "AUTHENTIC",
            "tier": "COVERT",
            "title": "UV micro-mark",
            "text": "Under 365 nm light a micro-mark SECRET-UV-MARK shows by the connector.",
        },
        {
            "id": "cheap-oem",
            "kind": "TELL",
            "tier": "OVERT",
            "title": "Sold as 'OEM surplus'",
            "text": "Genuine modules are never sold as surplus.",
            "keywords": ["ab-200 oem surplus"],
            "misspellings": ["Acme Motorz"],
        },
    ],
    "packaging": "Sealed antistatic bag inside a printed carton.",
    "serialFormats": [
        {
            "id": "sn",
            "name": "Module serial",
            "pattern": r"AB2-\d{6}-[A-Z]{2}",
            "examples": ["AB2-123456-DE"],
        }
    ],
    "supplyChain": [{"role": "MANUFACTURER", "name": "Acme Motors Werk 2", "country": "DE"}],
    "priceGuidance": "List price EUR 450-520.",
    "testBuyNotes": "Order through the official store first.",
}


async def guide_world(demo: dict[str, Any], sessions: Any, issue_token: Any) -> dict[str, Any]:
    orgs, groups = demo["orgs"], demo["groups"]
    async with sessions() as s:
        trainer = await orgs_repo.person_by_email(s, "trainer@guild-of-trainers.example")
        reviewer = await orgs_repo.person_by_email(s, "analyst@acme-motors.example")
        platform = await orgs_repo.person_by_email(s, "trust@shopmart.example")
        police = await orgs_repo.person_by_email(s, "investigator@city-police.example")
    writer_scopes = "guides:write guides:publish guides:read"
    return {
        "orgs": orgs,
        "group": to_global_id("WorkingGroup", groups["automotive-parts"].id),
        "group_id": groups["automotive-parts"].id,
        "trainer": issue_token(orgs["guild-of-trainers"], writer_scopes, trainer),
        "trainer_reviewing": issue_token(
            orgs["guild-of-trainers"], writer_scopes + " guides:review", trainer
        ),
        "reviewer": issue_token(orgs["acme-motors"], "guides:review guides:read", reviewer),
        "reviewer_reading": issue_token(orgs["acme-motors"], "guides:read", reviewer),
        "platform": issue_token(orgs["shopmart"], "guides:read", platform),
        "police": issue_token(orgs["city-police"], "guides:read", police),
        "outsider": issue_token(orgs["volt-electronics"], "guides:read"),
    }


async def publish_guide(
    gql: Any, world: dict[str, Any], content: dict[str, Any] | None = None, **extra: Any
) -> str:
    """Create, submit, approve (by another person) and publish a guide; returns its id."""
    created = await gql(
        CREATE,
        {"input": {"workingGroupId": world["group"], "content": content or AIRBAG, **extra}},
        world["trainer"],
    )
    payload = created["data"]["createGuide"]
    assert payload["__typename"] == "GuidePayload", payload
    guide_id = payload["guide"]["id"]
    await advance(gql, world, guide_id)
    return guide_id  # type: ignore[no-any-return]


async def advance(gql: Any, world: dict[str, Any], guide_id: str) -> dict[str, Any]:
    """Submit, approve and publish the guide's draft."""
    steps = [(SUBMIT, "trainer"), (APPROVE, "reviewer"), (PUBLISH, "trainer")]
    result: dict[str, Any] = {}
    for document, who in steps:
        answer = await gql(document, {"input": {"guideId": guide_id}}, world[who])
        result = next(iter(answer["data"].values()))
        assert result["__typename"] == "GuidePayload", result
    return result
