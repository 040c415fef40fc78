"""A guide's content: the structured sections, validated into one canonical JSON document
(what the draft stores and each published version freezes). Pure: no I/O.

Features (authentic features and counterfeit tells) and serial formats carry stable ids, so
that photos, translations, diffs and compiled indicators can refer to them across versions.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from alliance.errors import FieldProblem, InvalidInput
from alliance.guides import serial
from alliance.indicators.errors import InvalidIndicator
from alliance.indicators.gtin import normalise_gtin

MAX_TEXT = 20_000
MAX_SHORT = 300
MAX_ITEMS = 200
MAX_TERMS = 50
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
HASH_RE = {"image_phash": re.compile(r"^[0-9a-f]{16}$"), "image_pdq": re.compile(r"^[0-9a-f]{64}$")}


class FeatureKind(enum.StrEnum):
    AUTHENTIC = "AUTHENTIC"
    TELL = "TELL"  # a counterfeit tell


class Tier(enum.StrEnum):
    OVERT = "OVERT"  # anyone who may read the guide
    COVERT = "COVERT"  # enforcement, reviewers and the owner only
    FORENSIC = "FORENSIC"  # likewise; needs a lab


RESTRICTED_TIERS = frozenset({Tier.COVERT, Tier.FORENSIC})


class RegistrationKind(enum.StrEnum):
    TRADEMARK = "TRADEMARK"
    DESIGN = "DESIGN"
    PATENT = "PATENT"


class SupplyRole(enum.StrEnum):
    MANUFACTURER = "MANUFACTURER"
    DISTRIBUTOR = "DISTRIBUTOR"
    OFFICIAL_STORE = "OFFICIAL_STORE"


# Sections in reading order; the translatable ones are text a translator renders.
SECTIONS = (
    "title", "summary", "identity", "rights", "contacts", "features", "packaging", "labels",
    "serial_formats", "supply_chain", "price_guidance", "test_buy_notes",
)  # fmt: skip
TEXT_SECTIONS = ("title", "summary", "packaging", "labels", "price_guidance", "test_buy_notes")
IDENTITY_FIELDS = ("brands", "product_lines", "category_id", "gtins")


class _Check:
    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def fail(self, path: Sequence[str | int], code: str, message: str) -> None:
        self.problems.append(FieldProblem(tuple(str(p) for p in path), code, message))

    def text(
        self, path: Sequence[str | int], value: Any, *, limit: int, required: bool = False
    ) -> str:
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.fail(path, "INVALID", "must be text")
            return ""
        cleaned = value.strip()
        if required and not cleaned:
            self.fail(path, "BLANK", "must not be empty")
        elif len(cleaned) > limit:
            self.fail(path, "TOO_LONG", f"must be at most {limit} characters")
        elif "\x00" in cleaned:
            self.fail(path, "INVALID_CHARACTERS", "must not contain NUL characters")
        return cleaned

    def texts(self, path: Sequence[str | int], values: Any, *, limit: int = MAX_SHORT) -> list[str]:
        if values is None:
            return []
        if not isinstance(values, list | tuple):
            self.fail(path, "INVALID", "must be a list")
            return []
        if len(values) > MAX_TERMS:
            self.fail(path, "TOO_MANY", f"at most {MAX_TERMS} items")
            return []
        out = [self.text([*path, i], v, limit=limit, required=True) for i, v in enumerate(values)]
        return list(dict.fromkeys(v for v in out if v))

    def items(self, path: Sequence[str | int], values: Any) -> list[Mapping[str, Any]]:
        if values is None:
            return []
        if not isinstance(values, list | tuple) or not all(isinstance(v, Mapping) for v in values):
            self.fail(path, "INVALID", "must be a list of objects")
            return []
        if len(values) > MAX_ITEMS:
            self.fail(path, "TOO_MANY", f"at most {MAX_ITEMS} items")
            return []
        return list(values)

    def choice(self, path: Sequence[str | int], value: Any, enum_: type[enum.Enum]) -> Any:
        try:
            return enum_(value).value
        except ValueError:
            self.fail(path, "INVALID_CHOICE", "must be one of " + ", ".join(e.value for e in enum_))
            return None

    def ident(self, path: Sequence[str | int], value: Any, seen: set[str]) -> str:
        if value in (None, ""):
            ident = uuid.uuid4().hex[:12]
        elif not isinstance(value, str) or not ID_RE.fullmatch(value):
            self.fail(path, "INVALID_ID", "must be 1-64 letters, digits, '-' or '_'")
            return ""
        else:
            ident = value
        if ident in seen:
            self.fail(path, "DUPLICATE", "is used twice")
        seen.add(ident)
        return ident


def language_code(value: str) -> str | None:
    cleaned = value.strip()
    return cleaned.lower() if LANGUAGE_RE.fullmatch(cleaned) else None


def parse_content(
    data: Mapping[str, Any], *, known_categories: set[int] | None = None
) -> dict[str, Any]:
    """Validate a guide's content; every problem is reported at once, with its path."""
    c = _Check()
    content: dict[str, Any] = {
        "title": c.text(["title"], data.get("title"), limit=MAX_SHORT, required=True)
    }
    for name in ("summary", "packaging", "labels", "price_guidance", "test_buy_notes"):
        content[name] = c.text([name], data.get(name), limit=MAX_TEXT)
    content["brands"] = c.texts(["brands"], data.get("brands"))
    content["product_lines"] = c.texts(["product_lines"], data.get("product_lines"))
    category = data.get("category_id")
    if category is not None and (
        not isinstance(category, int)
        or (known_categories is not None and category not in known_categories)
    ):
        c.fail(["category_id"], "UNKNOWN_CATEGORY", "is not a taxonomy category")
        category = None
    content["category_id"] = category
    gtins = []
    for i, raw in enumerate(c.texts(["gtins"], data.get("gtins"))):
        try:
            gtins.append(normalise_gtin(raw).value)
        except InvalidIndicator as exc:
            c.fail(["gtins", i], "INVALID_GTIN", str(exc))
    content["gtins"] = list(dict.fromkeys(gtins))

    rights = data.get("rights") or {}
    registrations = []
    for i, r in enumerate(c.items(["rights", "registrations"], rights.get("registrations"))):
        p = ["rights", "registrations", i]
        registrations.append(
            {
                "kind": c.choice([*p, "kind"], r.get("kind"), RegistrationKind),
                "number": c.text([*p, "number"], r.get("number"), limit=100, required=True),
                "jurisdiction": c.text([*p, "jurisdiction"], r.get("jurisdiction"), limit=20),
                "note": c.text([*p, "note"], r.get("note"), limit=MAX_SHORT),
            }
        )
    recordations = []
    for i, r in enumerate(
        c.items(["rights", "customs_recordations"], rights.get("customs_recordations"))
    ):
        p = ["rights", "customs_recordations", i]
        recordations.append(
            {
                "number": c.text([*p, "number"], r.get("number"), limit=100, required=True),
                "jurisdiction": c.text([*p, "jurisdiction"], r.get("jurisdiction"), limit=20),
            }
        )
    content["rights"] = {
        "registrations": registrations,
        "customs_recordations": recordations,
        "jurisdictions": c.texts(
            ["rights", "jurisdictions"], rights.get("jurisdictions"), limit=20
        ),
    }

    contacts = []
    for i, r in enumerate(c.items(["contacts"], data.get("contacts"))):
        p = ["contacts", i]
        contacts.append(
            {
                "name": c.text([*p, "name"], r.get("name"), limit=MAX_SHORT, required=True),
                "organisation": c.text(
                    [*p, "organisation"], r.get("organisation"), limit=MAX_SHORT
                ),
                "languages": c.texts([*p, "languages"], r.get("languages"), limit=16),
                "hours": c.text([*p, "hours"], r.get("hours"), limit=MAX_SHORT),
                "reach": c.text([*p, "reach"], r.get("reach"), limit=2000),
            }
        )
    content["contacts"] = contacts

    features, seen = [], set()
    for i, r in enumerate(c.items(["features"], data.get("features"))):
        p = ["features", i]
        kind = c.choice([*p, "kind"], r.get("kind") or FeatureKind.AUTHENTIC, FeatureKind)
        hashes = []
        for j, h in enumerate(c.items([*p, "image_hashes"], r.get("image_hashes"))):
            htype, value = h.get("type"), str(h.get("value") or "").strip().lower()
            if htype not in HASH_RE or not HASH_RE[htype].fullmatch(value):
                c.fail(
                    [*p, "image_hashes", j],
                    "INVALID_HASH",
                    "image_phash is 16 hex digits, image_pdq 64",
                )
                continue
            hashes.append({"type": htype, "value": value})
        detection = {
            "keywords": c.texts([*p, "keywords"], r.get("keywords"), limit=200),
            "misspellings": c.texts([*p, "misspellings"], r.get("misspellings"), limit=200),
            "image_hashes": hashes,
        }
        if kind == FeatureKind.AUTHENTIC and any(detection.values()):
            c.fail([*p, "keywords"], "NOT_A_TELL", "only counterfeit tells compile into indicators")
        features.append(
            {
                "id": c.ident([*p, "id"], r.get("id"), seen),
                "kind": kind,
                "tier": c.choice([*p, "tier"], r.get("tier") or Tier.OVERT, Tier),
                "title": c.text([*p, "title"], r.get("title"), limit=MAX_SHORT, required=True),
                "text": c.text([*p, "text"], r.get("text"), limit=MAX_TEXT),
                **detection,
            }
        )
    content["features"] = features

    formats, seen = [], set()
    for i, r in enumerate(c.items(["serial_formats"], data.get("serial_formats"))):
        p = ["serial_formats", i]
        pattern = c.text(
            [*p, "pattern"], r.get("pattern"), limit=serial.MAX_PATTERN_CHARS, required=True
        )
        examples = c.texts([*p, "examples"], r.get("examples"), limit=serial.MAX_VALUE_CHARS)
        try:
            if pattern:
                serial.compile_pattern(pattern)
                for j, example in enumerate(examples):
                    if not serial.check_value(pattern, example).valid:
                        c.fail(
                            [*p, "examples", j], "EXAMPLE_MISMATCH", "does not match the pattern"
                        )
        except serial.PatternError as exc:
            c.fail([*p, "pattern"], "INVALID_PATTERN", str(exc))
        formats.append(
            {
                "id": c.ident([*p, "id"], r.get("id"), seen),
                "name": c.text([*p, "name"], r.get("name"), limit=MAX_SHORT, required=True),
                "pattern": pattern,
                "examples": examples,
                "description": c.text([*p, "description"], r.get("description"), limit=2000),
            }
        )
    content["serial_formats"] = formats

    chain = []
    for i, r in enumerate(c.items(["supply_chain"], data.get("supply_chain"))):
        p = ["supply_chain", i]
        chain.append(
            {
                "role": c.choice([*p, "role"], r.get("role"), SupplyRole),
                "name": c.text([*p, "name"], r.get("name"), limit=MAX_SHORT, required=True),
                "country": c.text([*p, "country"], r.get("country"), limit=2).upper(),
                "url": c.text([*p, "url"], r.get("url"), limit=2000),
            }
        )
    content["supply_chain"] = chain
    if c.problems:
        raise InvalidInput(c.problems)
    return content


def section_of(content: Mapping[str, Any], name: str) -> Any:
    if name == "identity":
        return {f: content.get(f) for f in IDENTITY_FIELDS}
    return content.get(name)


def fingerprint(value: Any) -> str:
    return hashlib.sha256(
        json.dumps(value, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def translatable(content: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The sections a translator renders, by key: the text sections and one per feature."""
    found = {name: {"text": content.get(name) or ""} for name in TEXT_SECTIONS}
    for feature in content.get("features", []):
        found[f"feature:{feature['id']}"] = {"title": feature["title"], "text": feature["text"]}
    return found
