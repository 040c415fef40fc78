from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from schema.rules.types import Decision, ItemCondition, Rationale

MAX_LIST = 1000


@strawberry.input
class AuthorisedSellerInput:
    platform: str
    seller_id: str
    name: str = ""


@strawberry.input
class KeywordQueryInput:
    all_of: list[str] = strawberry.field(default_factory=list)
    any_of: list[str] = strawberry.field(default_factory=list)
    none_of: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class RuleExceptionsInput:
    authorised_sellers: list[AuthorisedSellerInput] = strawberry.field(default_factory=list)
    certification_ids: list[str] = strawberry.field(default_factory=list)
    required_statement: str | None = None
    ships_to_only: list[str] = strawberry.field(default_factory=list)


@strawberry.input(description="What a rule says; lists hold at most 1,000 items (terms 200).")
class RuleDefinitionInput:
    name: str
    decision: Decision  # type: ignore[valid-type]
    rationale: Rationale  # type: ignore[valid-type]
    description: str = ""
    jurisdictions: list[str] = strawberry.field(default_factory=list)
    platforms: list[str] = strawberry.field(default_factory=list)
    category_ids: list[int] = strawberry.field(default_factory=list)
    brands: list[str] = strawberry.field(default_factory=list)
    keywords: KeywordQueryInput | None = None
    conditions: list[ItemCondition] = strawberry.field(default_factory=list)  # type: ignore[valid-type]
    exceptions: RuleExceptionsInput | None = None
    evidence: list[str] = strawberry.field(default_factory=list)
    effective_from: datetime | None = None
    effective_to: datetime | None = None

    def to_mapping(self) -> dict[str, Any]:
        words = self.keywords or KeywordQueryInput()
        exceptions = self.exceptions or RuleExceptionsInput()
        return {
            "name": self.name,
            "description": self.description,
            "decision": self.decision,
            "rationale": self.rationale,
            "jurisdictions": self.jurisdictions,
            "platforms": self.platforms,
            "category_ids": self.category_ids,
            "brands": self.brands,
            "keywords": {"all_of": words.all_of, "any_of": words.any_of, "none_of": words.none_of},
            "conditions": self.conditions,
            "exceptions": {
                "authorised_sellers": [
                    {"platform": s.platform, "seller_id": s.seller_id, "name": s.name}
                    for s in exceptions.authorised_sellers[: MAX_LIST + 1]
                ],
                "certification_ids": exceptions.certification_ids,
                "required_statement": exceptions.required_statement,
                "ships_to_only": exceptions.ships_to_only,
            },
            "evidence": self.evidence,
            "effective_from": self.effective_from,
            "effective_to": self.effective_to,
        }
