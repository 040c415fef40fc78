from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry

from alliance.listings import matcher as m
from schema.rules.types import ItemCondition

Verdict = strawberry.enum(m.Verdict, description="BLOCK it, send it to REVIEW, or ALLOW it.")
MatchKind = strawberry.enum(m.MatchKind, description="What the listing matched.")


@strawberry.input(description="A listing to check; every field is optional but one is needed.")
class ListingInput:
    ref: str | None = strawberry.field(default=None, description="Your own id, echoed back.")
    platform: str | None = None
    seller_id: str | None = None
    shop_url: str | None = None
    listing_url: str | None = None
    title: str | None = None
    description: str | None = None
    category_id: int | None = strawberry.field(default=None, description="A taxonomy id.")
    platform_category_id: str | None = strawberry.field(
        default=None, description="The platform's own category id, mapped onto the taxonomy."
    )
    brand: str | None = None
    condition: ItemCondition | None = None  # type: ignore[valid-type]
    price: Decimal | None = None
    currency: str | None = None
    country: str | None = None
    ships_to: list[str] | None = None
    gtin: str | None = None
    serials: list[str] | None = None
    phone: str | None = None
    email: str | None = None
    image_phashes: list[str] | None = None
    image_pdqs: list[str] | None = None
    certifications: list[str] | None = None

    def to_mapping(self) -> dict[str, Any]:
        names = {
            "ref": self.ref,
            "platform": self.platform,
            "sellerId": self.seller_id,
            "shopUrl": self.shop_url,
            "listingUrl": self.listing_url,
            "title": self.title,
            "description": self.description,
            "categoryId": None if self.category_id is None else str(self.category_id),
            "platformCategoryId": self.platform_category_id,
            "brand": self.brand,
            "condition": None if self.condition is None else self.condition.value,
            "price": None if self.price is None else str(self.price),
            "currency": self.currency,
            "country": self.country,
            "shipsTo": self.ships_to,
            "gtin": self.gtin,
            "serials": self.serials,
            "phone": self.phone,
            "email": self.email,
            "imagePhashes": self.image_phashes,
            "imagePdqs": self.image_pdqs,
            "certifications": self.certifications,
        }
        return {k: v for k, v in names.items() if v is not None}


@strawberry.type
class ListingMatch:
    kind: MatchKind  # type: ignore[valid-type]
    id: strawberry.ID = strawberry.field(description="The rule, assertion or allowlist entry.")
    field: str = strawberry.field(description="The listing field that matched.")
    text: str | None = strawberry.field(description="What in that field matched.")
    distance: int | None = strawberry.field(description="Hamming distance, for image hashes.")
    reason: str
    outcome: Verdict  # type: ignore[valid-type]
    score: float
    exception: str | None = strawberry.field(description="The rule exception that applied.")
    links: list[str] = strawberry.field(description="The seller network, as far as you see it.")
    overridden: bool = strawberry.field(description="Overridden by a brand allowlist.")

    @classmethod
    def of(cls, match: m.Match) -> ListingMatch:
        return cls(
            kind=match.kind,
            id=strawberry.ID(match.id),
            field=match.field,
            text=match.text,
            distance=match.distance,
            reason=match.reason,
            outcome=match.outcome,
            score=match.score,
            exception=match.exception,
            links=list(match.links),
            overridden=match.overridden,
        )


@strawberry.type(description="Computed from what the caller may see, and nothing else.")
class ListingCheck:
    ref: str | None
    verdict: Verdict  # type: ignore[valid-type]
    score: float = strawberry.field(description="0–100.")
    matches: list[ListingMatch]

    @classmethod
    def of(cls, result: m.CheckResult) -> ListingCheck:
        return cls(
            ref=result.ref,
            verdict=result.verdict,
            score=result.score,
            matches=[ListingMatch.of(x) for x in result.matches],
        )
