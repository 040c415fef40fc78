"""A listing a partner sends to be checked, validated once, and the indicator keys it yields.

The same parser serves GraphQL, the NDJSON endpoint and back-test catalogues (CSV or JSONL),
so a listing is refused for the same reasons whichever way it came. Field paths in
problems use the API's camelCase names.

Pure: no I/O.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from iso3166 import countries_by_alpha2

from alliance.errors import FieldProblem, InvalidInput
from alliance.indicators.errors import InvalidIndicator
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.normalise import normalise
from alliance.rules.definition import ItemCondition
from alliance.validation import SLUG_RE

T = IndicatorType
MAX_TEXT = 20_000
MAX_SHORT = 2048
MAX_LIST = 50

# API name -> attribute name.
FIELDS = {
    "ref": "ref",
    "platform": "platform",
    "sellerId": "seller_id",
    "shopUrl": "shop_url",
    "listingUrl": "listing_url",
    "title": "title",
    "description": "description",
    "categoryId": "category_id",
    "platformCategoryId": "platform_category_id",
    "brand": "brand",
    "condition": "condition",
    "price": "price",
    "currency": "currency",
    "country": "country",
    "shipsTo": "ships_to",
    "gtin": "gtin",
    "serials": "serials",
    "phone": "phone",
    "email": "email",
    "imagePhashes": "image_phashes",
    "imagePdqs": "image_pdqs",
    "certifications": "certifications",
}
LIST_FIELDS = frozenset({"shipsTo", "serials", "imagePhashes", "imagePdqs", "certifications"})


@dataclass(frozen=True, slots=True)
class Listing:
    ref: str | None = None
    platform: str | None = None
    seller_id: str | None = None
    shop_url: str | None = None
    listing_url: str | None = None
    title: str = ""
    description: str = ""
    category_id: int | None = None
    platform_category_id: str | None = None
    brand: str | None = None
    condition: ItemCondition | None = None
    price: Decimal | None = None
    currency: str | None = None
    country: str | None = None
    ships_to: tuple[str, ...] = ()
    gtin: str | None = None
    serials: tuple[str, ...] = ()
    phone: str | None = None
    email: str | None = None
    image_phashes: tuple[str, ...] = ()
    image_pdqs: tuple[str, ...] = ()
    certifications: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.description}"


@dataclass(frozen=True, slots=True)
class Probe:
    """One key an indicator may be matched on: (type, key name, value), and where it came from."""

    type: IndicatorType
    name: str
    value: str
    field: str
    text: str


def _text(problems: list[FieldProblem], name: str, value: Any, limit: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str | int | float):
        problems.append(FieldProblem((name,), "INVALID_TYPE", "must be a string"))
        return None
    text = str(value).strip()
    if len(text) > limit:
        problems.append(FieldProblem((name,), "TOO_LONG", f"at most {limit} characters"))
        return None
    if "\x00" in text:
        problems.append(FieldProblem((name,), "INVALID_CHARACTERS", "must not contain NUL"))
        return None
    return text or None


def _list(problems: list[FieldProblem], name: str, value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",")]
    if not isinstance(value, list | tuple):
        problems.append(FieldProblem((name,), "INVALID_TYPE", "must be a list"))
        return []
    if len(value) > MAX_LIST:
        problems.append(FieldProblem((name,), "TOO_MANY", f"at most {MAX_LIST} items"))
        return []
    out = []
    for item in value:
        text = _text(problems, name, item, 256)
        if text and text not in out:
            out.append(text)
    return out


def _country(problems: list[FieldProblem], name: str, value: str | None) -> str | None:
    if value is None:
        return None
    code = value.upper()
    if code not in countries_by_alpha2:
        problems.append(FieldProblem((name,), "INVALID_COUNTRY", "must be ISO 3166-1 alpha-2"))
        return None
    return code


def parse_listing(data: Mapping[str, Any], *, path: tuple[str, ...] = ()) -> Listing:
    """A listing from API-named fields; ``InvalidInput`` (paths under ``path``) otherwise."""
    problems: list[FieldProblem] = []
    unknown = sorted(set(data) - set(FIELDS))
    for name in unknown:
        problems.append(FieldProblem((name,), "UNKNOWN_FIELD", "is not a listing field"))
    values: dict[str, Any] = {}
    for name in FIELDS:
        if name in LIST_FIELDS:
            values[FIELDS[name]] = tuple(_list(problems, name, data.get(name)))
        elif name in ("title", "description"):
            values[FIELDS[name]] = _text(problems, name, data.get(name), MAX_TEXT) or ""
        else:
            values[FIELDS[name]] = _text(problems, name, data.get(name), MAX_SHORT)
    platform = values["platform"]
    if platform is not None:
        platform = platform.lower()
        if not SLUG_RE.fullmatch(platform):
            problems.append(FieldProblem(("platform",), "INVALID_SLUG", "must be a slug"))
        values["platform"] = platform
    if values["category_id"] is not None:
        if not str(values["category_id"]).isdigit():
            problems.append(FieldProblem(("categoryId",), "INVALID_CATEGORY", "must be an id"))
            values["category_id"] = None
        else:
            values["category_id"] = int(values["category_id"])
    if values["platform_category_id"] is not None and platform is None:
        problems.append(
            FieldProblem(("platform",), "REQUIRED", "is required with platformCategoryId")
        )
    if values["condition"] is not None:
        try:
            values["condition"] = ItemCondition(values["condition"].upper())
        except ValueError:
            allowed = ", ".join(c.value for c in ItemCondition)
            problems.append(FieldProblem(("condition",), "INVALID_CHOICE", f"one of {allowed}"))
            values["condition"] = None
    if values["price"] is not None:
        try:
            values["price"] = Decimal(values["price"])
            if not values["price"].is_finite() or values["price"] < 0:
                raise InvalidOperation
        except InvalidOperation:
            problems.append(FieldProblem(("price",), "INVALID_PRICE", "must be a number ≥ 0"))
            values["price"] = None
    if values["currency"] is not None:
        values["currency"] = values["currency"].upper()
        if len(values["currency"]) != 3 or not values["currency"].isalpha():
            problems.append(FieldProblem(("currency",), "INVALID_CURRENCY", "ISO 4217 code"))
    values["country"] = _country(problems, "country", values["country"])
    values["ships_to"] = tuple(
        c for c in (_country(problems, "shipsTo", v) for v in values["ships_to"]) if c
    )
    if problems:
        raise InvalidInput([FieldProblem((*path, *p.path), p.code, p.message) for p in problems])
    return Listing(**values)


def probes(listing: Listing) -> list[Probe]:
    """The indicator keys a listing yields, normalised as indicators are, so a listing value
    meets an indicator exactly when submitting that value would have found the indicator.
    Values that are no valid indicator (a malformed phone number) yield nothing."""
    found: list[Probe] = []

    def add(type_: IndicatorType, field: str, raw: str, **fields: object) -> None:
        try:
            canonical = normalise(type_, raw, country=listing.country, **fields)
        except (InvalidIndicator, ValueError):
            return
        found.append(Probe(type_, "value", canonical.value, field, raw))
        for key, value in canonical.match_keys:
            found.append(Probe(type_, key, value, field, raw))
            if key in ("registrable_domain", "host"):
                found.append(Probe(T.DOMAIN, "value", value, field, raw))

    if listing.seller_id:
        add(T.SELLER_ACCOUNT, "sellerId", listing.seller_id, platform=listing.platform)
    if listing.shop_url:
        add(T.STOREFRONT_URL, "shopUrl", listing.shop_url)
    if listing.listing_url:
        add(T.LISTING_URL, "listingUrl", listing.listing_url)
    if listing.phone:
        add(T.PHONE, "phone", listing.phone)
    if listing.email:
        add(T.EMAIL, "email", listing.email)
        domain = listing.email.rpartition("@")[2]
        if domain:
            add(T.DOMAIN, "email", domain)
    if listing.gtin:
        add(T.GTIN, "gtin", listing.gtin)
    return found


# --- catalogues (back-test uploads) ---------------------------------------------------------


def read_catalogue(text: str, fmt: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """(line number, fields) of each listing of a CSV (header row of API names) or JSONL
    catalogue; a JSONL line that is not an object is an ``InvalidInput``."""
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        for number, row in enumerate(reader, start=2):
            yield number, {k: v for k, v in row.items() if k and v not in (None, "")}
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                [FieldProblem(("catalogue", f"line {number}"), "INVALID_JSON", exc.msg)]
            ) from exc
        if not isinstance(item, dict):
            raise InvalidInput(
                [FieldProblem(("catalogue", f"line {number}"), "INVALID_JSON", "not an object")]
            )
        yield number, item


def api_fields(listing: Listing) -> Iterable[tuple[str, Any]]:
    for api, attr in FIELDS.items():
        yield api, getattr(listing, attr)
