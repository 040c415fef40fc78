from __future__ import annotations

from typing import Any

import strawberry

from schema.guides.types import FeatureKind, RegistrationKind, SupplyRole, Tier

# Lists are capped again by the service (200 items, 50 terms); this keeps a huge input from
# being converted at all.
CAP = 201


def _cap(values: list[Any]) -> list[Any]:
    return values[:CAP]


@strawberry.input
class RightsRegistrationInput:
    kind: RegistrationKind  # type: ignore[valid-type]
    number: str
    jurisdiction: str = ""
    note: str = ""


@strawberry.input
class CustomsRecordationInput:
    number: str
    jurisdiction: str = ""


@strawberry.input
class GuideRightsInput:
    registrations: list[RightsRegistrationInput] = strawberry.field(default_factory=list)
    customs_recordations: list[CustomsRecordationInput] = strawberry.field(default_factory=list)
    jurisdictions: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class VerificationContactInput:
    name: str
    organisation: str = ""
    languages: list[str] = strawberry.field(default_factory=list)
    hours: str = ""
    reach: str = ""


@strawberry.input
class ImageHashInput:
    type: str = strawberry.field(description="image_phash (16 hex digits) or image_pdq (64).")
    value: str


@strawberry.input(
    description=(
        "An authentic feature or a counterfeit tell. Send back the id of an existing feature to "
        "keep its photos, translations and indicators; a tell may declare keywords, brand "
        "misspellings and image hashes, which publishing compiles into indicators."
    )
)
class GuideFeatureInput:
    title: str
    id: str | None = None
    kind: FeatureKind | None = None  # type: ignore[valid-type]
    tier: Tier | None = None  # type: ignore[valid-type]
    text: str = ""
    keywords: list[str] = strawberry.field(default_factory=list)
    misspellings: list[str] = strawberry.field(default_factory=list)
    image_hashes: list[ImageHashInput] = strawberry.field(default_factory=list)


@strawberry.input
class SerialFormatInput:
    name: str
    pattern: str = strawberry.field(
        description=(
            "A bounded regular expression matched against the whole value: literals, classes, "
            "\\d \\w \\s, groups, ? and {n,m} (at most 64); no * or +."
        )
    )
    id: str | None = None
    examples: list[str] = strawberry.field(default_factory=list)
    description: str = ""


@strawberry.input
class SupplyChainEntryInput:
    role: SupplyRole  # type: ignore[valid-type]
    name: str
    country: str = ""
    url: str = ""


@strawberry.input(description="A guide's sections; text fields are Markdown.")
class GuideContentInput:
    title: str
    summary: str = ""
    brands: list[str] = strawberry.field(default_factory=list)
    product_lines: list[str] = strawberry.field(default_factory=list)
    category_id: int | None = None
    gtins: list[str] = strawberry.field(default_factory=list)
    rights: GuideRightsInput | None = None
    contacts: list[VerificationContactInput] = strawberry.field(default_factory=list)
    features: list[GuideFeatureInput] = strawberry.field(default_factory=list)
    packaging: str = ""
    labels: str = ""
    serial_formats: list[SerialFormatInput] = strawberry.field(default_factory=list)
    supply_chain: list[SupplyChainEntryInput] = strawberry.field(default_factory=list)
    price_guidance: str = ""
    test_buy_notes: str = ""

    def to_mapping(self) -> dict[str, Any]:
        rights = self.rights or GuideRightsInput()
        return {
            "title": self.title,
            "summary": self.summary,
            "brands": _cap(self.brands),
            "product_lines": _cap(self.product_lines),
            "category_id": self.category_id,
            "gtins": _cap(self.gtins),
            "rights": {
                "registrations": [
                    {"kind": r.kind, "number": r.number, "jurisdiction": r.jurisdiction,
                     "note": r.note}
                    for r in _cap(rights.registrations)
                ],
                "customs_recordations": [
                    {"number": r.number, "jurisdiction": r.jurisdiction}
                    for r in _cap(rights.customs_recordations)
                ],
                "jurisdictions": _cap(rights.jurisdictions),
            },
            "contacts": [
                {"name": c.name, "organisation": c.organisation, "languages": _cap(c.languages),
                 "hours": c.hours, "reach": c.reach}
                for c in _cap(self.contacts)
            ],
            "features": [
                {"id": f.id, "kind": f.kind, "tier": f.tier, "title": f.title, "text": f.text,
                 "keywords": _cap(f.keywords), "misspellings": _cap(f.misspellings),
                 "image_hashes": [{"type": h.type, "value": h.value} for h in _cap(f.image_hashes)]}
                for f in _cap(self.features)
            ],
            "packaging": self.packaging,
            "labels": self.labels,
            "serial_formats": [
                {"id": s.id, "name": s.name, "pattern": s.pattern, "examples": _cap(s.examples),
                 "description": s.description}
                for s in _cap(self.serial_formats)
            ],
            "supply_chain": [
                {"role": s.role, "name": s.name, "country": s.country, "url": s.url}
                for s in _cap(self.supply_chain)
            ],
            "price_guidance": self.price_guidance,
            "test_buy_notes": self.test_buy_notes,
        }  # fmt: skip


@strawberry.input
class SectionTranslationInput:
    section: str = strawberry.field(
        description="title, summary, packaging, labels, priceGuidance, testBuyNotes or feature:ID."
    )
    text: str = ""
    title: str | None = strawberry.field(default=None, description="For a feature: its title.")
