"""What a banned-category rule says, as plain data: validated once, frozen, stored as JSON.

A rule applies to a listing when every part of its scope that is given matches: the
listing's category is one of the rule's categories or below one (descendants included),
its brand is one of the brands, its title and description satisfy the keyword query
(all-of, any-of, none-of terms, folded like keyword indicators), its condition is one of
the conditions, and it is listed on one of the platforms, in one of the jurisdictions
(none named: everywhere). The decision then says what happens, unless an exception holds.

Pure: no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from iso3166 import countries_by_alpha2

from alliance.errors import FieldProblem, InvalidInput
from alliance.listings.keywords import fold_pattern
from alliance.validation import SLUG_RE

MAX_TERMS = 200
MAX_ITEMS = 1000
MAX_TERM_LENGTH = 200


class RuleStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    RETIRED = "RETIRED"


class Decision(enum.StrEnum):
    # In scope: blocked, unless an exception holds.
    PROHIBIT = "PROHIBIT"
    # Allowed only where an exception holds (authorised seller, certification, statement,
    # ships-to limits); otherwise blocked.
    RESTRICT = "RESTRICT"
    # Allowed where an exception holds; otherwise sent to a person to review.
    ALLOW_IF = "ALLOW_IF"


class Rationale(enum.StrEnum):
    SAFETY = "SAFETY"
    COUNTERFEIT = "COUNTERFEIT"
    LEGAL = "LEGAL"


class ItemCondition(enum.StrEnum):
    NEW = "NEW"
    USED = "USED"
    REFURBISHED = "REFURBISHED"
    DEPLOYED = "DEPLOYED"
    RECALLED = "RECALLED"


@dataclass(frozen=True, slots=True)
class AuthorisedSeller:
    platform: str
    seller_id: str
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or f"{self.platform}:{self.seller_id}"


@dataclass(frozen=True, slots=True)
class KeywordQuery:
    all_of: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.all_of or self.any_of or self.none_of)

    def terms(self) -> tuple[str, ...]:
        return (*self.all_of, *self.any_of, *self.none_of)


@dataclass(frozen=True, slots=True)
class Exceptions:
    authorised_sellers: tuple[AuthorisedSeller, ...] = ()
    certification_ids: tuple[str, ...] = ()
    required_statement: str | None = None
    # The listing is excepted when it ships only to these countries.
    ships_to_only: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(
            self.authorised_sellers
            or self.certification_ids
            or self.required_statement
            or self.ships_to_only
        )


@dataclass(frozen=True, slots=True)
class RuleDefinition:
    name: str
    decision: Decision
    rationale: Rationale
    jurisdictions: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    category_ids: tuple[int, ...] = ()
    brands: tuple[str, ...] = ()
    keywords: KeywordQuery = field(default_factory=KeywordQuery)
    conditions: tuple[ItemCondition, ...] = ()
    exceptions: Exceptions = field(default_factory=Exceptions)
    evidence: tuple[str, ...] = ()
    description: str = ""
    effective_from: datetime | None = None
    effective_to: datetime | None = None

    def in_force(self, at: datetime) -> bool:
        if self.effective_from is not None and at < self.effective_from:
            return False
        return self.effective_to is None or at < self.effective_to

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "decision": self.decision.value,
            "rationale": self.rationale.value,
            "jurisdictions": list(self.jurisdictions),
            "platforms": list(self.platforms),
            "category_ids": list(self.category_ids),
            "brands": list(self.brands),
            "keywords": {
                "all_of": list(self.keywords.all_of),
                "any_of": list(self.keywords.any_of),
                "none_of": list(self.keywords.none_of),
            },
            "conditions": [c.value for c in self.conditions],
            "exceptions": {
                "authorised_sellers": [
                    {"platform": s.platform, "seller_id": s.seller_id, "name": s.name}
                    for s in self.exceptions.authorised_sellers
                ],
                "certification_ids": list(self.exceptions.certification_ids),
                "required_statement": self.exceptions.required_statement,
                "ships_to_only": list(self.exceptions.ships_to_only),
            },
            "evidence": list(self.evidence),
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
        }


class _Check:
    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def fail(self, path: tuple[str | int, ...], code: str, message: str) -> None:
        self.problems.append(FieldProblem(tuple(str(p) for p in path), code, message))

    def strings(
        self, path: tuple[str, ...], values: Iterable[Any] | None, *, limit: int = MAX_ITEMS
    ) -> list[str]:
        items = list(values or ())
        if len(items) > limit:
            self.fail(path, "TOO_MANY", f"at most {limit} items")
            return []
        out: list[str] = []
        for n, value in enumerate(items):
            text = str(value).strip() if value is not None else ""
            if not text:
                self.fail((*path, n), "BLANK", "must not be empty")
            elif len(text) > MAX_TERM_LENGTH:
                self.fail((*path, n), "TOO_LONG", f"at most {MAX_TERM_LENGTH} characters")
            elif text not in out:
                out.append(text)
        return out

    def choice(self, path: tuple[str, ...], value: Any, enum_: type[enum.StrEnum]) -> Any:
        try:
            return enum_(value.value if isinstance(value, enum.Enum) else value)
        except ValueError:
            allowed = ", ".join(m.value for m in enum_)
            self.fail(path, "INVALID_CHOICE", f"must be one of {allowed}")
            return None

    def countries(self, path: tuple[str, ...], values: Iterable[Any] | None) -> list[str]:
        out = []
        for n, code in enumerate(self.strings(path, values)):
            upper = code.upper()
            if upper not in countries_by_alpha2:
                self.fail((*path, n), "INVALID_COUNTRY", "must be an ISO 3166-1 alpha-2 code")
            elif upper not in out:
                out.append(upper)
        return out

    def terms(self, path: tuple[str, ...], values: Iterable[Any] | None) -> list[str]:
        out = []
        for n, term in enumerate(self.strings(path, values, limit=MAX_TERMS)):
            if not fold_pattern(term).strip():
                self.fail((*path, n), "BLANK", "has nothing left to match once folded")
            else:
                out.append(term)
        return out


def _date(check: _Check, path: str, value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            check.fail((path,), "INVALID_DATE", "must be an ISO 8601 date-time")
            return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        check.fail((path,), "INVALID_DATE", "must be a date-time with a time zone")
        return None
    return value


def parse_definition(
    data: Mapping[str, Any], *, known_categories: Iterable[int] | None = None
) -> RuleDefinition:
    """A validated definition from input shaped like :meth:`RuleDefinition.to_json` (the
    GraphQL input and the stored JSON); ``InvalidInput`` naming every bad field otherwise.
    ``known_categories``, when given, is the tree the category ids must belong to."""
    check = _Check()
    name = str(data.get("name") or "").strip()
    if not name:
        check.fail(("name",), "REQUIRED", "is required")
    elif len(name) > 200:
        check.fail(("name",), "TOO_LONG", "at most 200 characters")
    description = str(data.get("description") or "").strip()
    if len(description) > 20_000:
        check.fail(("description",), "TOO_LONG", "at most 20000 characters")
    decision = check.choice(("decision",), data.get("decision"), Decision)
    rationale = check.choice(("rationale",), data.get("rationale"), Rationale)
    jurisdictions = check.countries(("jurisdictions",), data.get("jurisdictions"))
    platforms = []
    for n, platform in enumerate(check.strings(("platforms",), data.get("platforms"))):
        if not SLUG_RE.fullmatch(platform.lower()):
            check.fail(("platforms", str(n)), "INVALID_SLUG", "must be a platform slug")
        else:
            platforms.append(platform.lower())
    categories: list[int] = []
    known = set(known_categories) if known_categories is not None else None
    for n, raw in enumerate(data.get("category_ids") or ()):
        try:
            category = int(raw)
        except (TypeError, ValueError):
            check.fail(("categoryIds", str(n)), "INVALID_CATEGORY", "must be a category id")
            continue
        if known is not None and category not in known:
            check.fail(("categoryIds", str(n)), "UNKNOWN_CATEGORY", "is not in the taxonomy")
        elif category not in categories:
            categories.append(category)
    brands = check.strings(("brands",), data.get("brands"))
    words = data.get("keywords") or {}
    keywords = KeywordQuery(
        all_of=tuple(check.terms(("keywords", "allOf"), words.get("all_of"))),
        any_of=tuple(check.terms(("keywords", "anyOf"), words.get("any_of"))),
        none_of=tuple(check.terms(("keywords", "noneOf"), words.get("none_of"))),
    )
    conditions = []
    for n, raw in enumerate(data.get("conditions") or ()):
        condition = check.choice(("conditions", str(n)), raw, ItemCondition)
        if condition is not None and condition not in conditions:
            conditions.append(condition)
    raw_exceptions = data.get("exceptions") or {}
    sellers = []
    for n, seller in enumerate(raw_exceptions.get("authorised_sellers") or ()):
        platform = str(seller.get("platform") or "").strip().lower()
        seller_id = str(seller.get("seller_id") or "").strip()
        if not SLUG_RE.fullmatch(platform):
            check.fail(
                ("exceptions", "authorisedSellers", str(n), "platform"),
                "INVALID_SLUG",
                "must be a platform slug",
            )
        if not seller_id or len(seller_id) > 200:
            check.fail(
                ("exceptions", "authorisedSellers", str(n), "sellerId"),
                "BLANK" if not seller_id else "TOO_LONG",
                "must be 1-200 characters",
            )
        sellers.append(
            AuthorisedSeller(platform, seller_id, str(seller.get("name") or "").strip()[:200])
        )
    statement = str(raw_exceptions.get("required_statement") or "").strip() or None
    if statement is not None and len(statement) > 1000:
        check.fail(("exceptions", "requiredStatement"), "TOO_LONG", "at most 1000 characters")
    exceptions = Exceptions(
        authorised_sellers=tuple(sellers),
        certification_ids=tuple(
            check.strings(
                ("exceptions", "certificationIds"), raw_exceptions.get("certification_ids")
            )
        ),
        required_statement=statement,
        ships_to_only=tuple(
            check.countries(("exceptions", "shipsToOnly"), raw_exceptions.get("ships_to_only"))
        ),
    )
    if decision == Decision.RESTRICT and not exceptions:
        check.fail(
            ("exceptions",),
            "EXCEPTION_REQUIRED",
            "a RESTRICT rule names who may list: authorised sellers, certifications, a "
            "required statement or ships-to limits",
        )
    if decision == Decision.ALLOW_IF and not exceptions:
        check.fail(("exceptions",), "EXCEPTION_REQUIRED", "an ALLOW_IF rule names its conditions")
    if not (categories or brands or keywords or conditions):
        check.fail(
            ("scope",),
            "EMPTY_SCOPE",
            "give at least one of categoryIds, brands, keywords or conditions",
        )
    if keywords.none_of and not (keywords.all_of or keywords.any_of or categories or brands):
        check.fail(
            ("keywords", "noneOf"),
            "EMPTY_SCOPE",
            "none-of terms only narrow a scope; give categories, brands or other terms too",
        )
    evidence = check.strings(("evidence",), data.get("evidence"), limit=50)
    start = _date(check, "effectiveFrom", data.get("effective_from"))
    end = _date(check, "effectiveTo", data.get("effective_to"))
    if start is not None and end is not None and end <= start:
        check.fail(("effectiveTo",), "BEFORE_START", "must be after effectiveFrom")
    if check.problems:
        raise InvalidInput(check.problems)
    return RuleDefinition(
        name=name,
        description=description,
        decision=decision,
        rationale=rationale,
        jurisdictions=tuple(jurisdictions),
        platforms=tuple(platforms),
        category_ids=tuple(categories),
        brands=tuple(brands),
        keywords=keywords,
        conditions=tuple(conditions),
        exceptions=exceptions,
        evidence=tuple(evidence),
        effective_from=start,
        effective_to=end,
    )
