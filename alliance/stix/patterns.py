"""STIX patterns for indicator values, and back.

Standard observable types where STIX has one (``url``, ``domain-name``, ``email-addr``,
``ipv4-addr``/``ipv6-addr``, ``user-account`` for seller accounts); the instance's own
observable types, published as extension definitions (:mod:`alliance.stix.extensions`), for
the rest. Reading accepts one observation of ``=`` comparisons joined by ``AND``: what
:func:`pattern_for` writes, and what a threat-intelligence tool sharing one value writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stix2patterns.exceptions import ParseException
from stix2patterns.v21.pattern import Pattern

from alliance.indicators.indicator_type import IndicatorType as T

# The instance's observable types (new SCOs), by indicator type.
CUSTOM_TYPES: dict[T, str] = {
    T.PHONE: "alliance-phone-number",
    T.PAYMENT_ACCOUNT: "alliance-payment-account",
    T.ADDRESS: "alliance-postal-address",
    T.WAYBILL: "alliance-waybill",
    T.IMAGE_PHASH: "alliance-image-hash",
    T.IMAGE_PDQ: "alliance-image-hash",
    T.GTIN: "alliance-gtin",
    T.KEYWORD: "alliance-keyword",
    T.BRAND_MISSPELLING: "alliance-brand-misspelling",
    T.SERIAL_PATTERN: "alliance-serial-pattern",
}
HASH_ALGORITHMS = {T.IMAGE_PHASH: "phash", T.IMAGE_PDQ: "pdq"}


class UnsupportedPattern(ValueError):
    """A pattern this instance cannot turn into one indicator value (the message says why)."""


def quote(value: str) -> str:
    """A STIX pattern string literal: backslashes and single quotes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def unquote(literal: str) -> str:
    if len(literal) < 2 or literal[0] != "'" or literal[-1] != "'":
        raise UnsupportedPattern(f"expected a string literal, got {literal}")
    return _ESCAPE.sub(lambda m: m.group(1), literal[1:-1])


def _comparison(stix_type: str, prop: str, value: str) -> str:
    return f"{stix_type}:{prop} = {quote(value)}"


def pattern_for(type: T, value: str) -> str:
    """The pattern matching the canonical ``value`` of an indicator of ``type``."""
    if type in (T.LISTING_URL, T.STOREFRONT_URL):
        parts = [_comparison("url", "value", value)]
    elif type == T.DOMAIN:
        parts = [_comparison("domain-name", "value", value)]
    elif type == T.EMAIL:
        parts = [_comparison("email-addr", "value", value)]
    elif type == T.IP:
        parts = [_comparison("ipv6-addr" if ":" in value else "ipv4-addr", "value", value)]
    elif type == T.SELLER_ACCOUNT:
        platform, _, native = value.partition(":")
        parts = [
            _comparison("user-account", "account_type", platform),
            _comparison("user-account", "user_id", native),
        ]
    elif type in HASH_ALGORITHMS:
        parts = [
            _comparison(CUSTOM_TYPES[type], "algorithm", HASH_ALGORITHMS[type]),
            _comparison(CUSTOM_TYPES[type], "value", value),
        ]
    else:
        parts = [_comparison(CUSTOM_TYPES[type], "value", value)]
    return "[" + " AND ".join(parts) + "]"


@dataclass(frozen=True, slots=True)
class PatternValue:
    """What a pattern says: the indicator type and the value to submit (to be normalised)."""

    type: T
    value: str


_STANDARD = {
    "url": T.LISTING_URL,
    "domain-name": T.DOMAIN,
    "email-addr": T.EMAIL,
    "ipv4-addr": T.IP,
    "ipv6-addr": T.IP,
}
_CUSTOM = {stix: t for t, stix in CUSTOM_TYPES.items() if t not in (T.IMAGE_PHASH, T.IMAGE_PDQ)}


def read_pattern(pattern: str, *, url_type: T = T.LISTING_URL) -> PatternValue:
    """The one value a pattern names; ``url_type`` is the type a ``url`` becomes."""
    try:
        inspected = Pattern(pattern).inspect()
    except ParseException as exc:
        raise UnsupportedPattern(f"not a valid STIX 2.1 pattern: {exc}") from exc
    if inspected.observation_ops or inspected.qualifiers:
        raise UnsupportedPattern("only a single observation, without qualifiers, is supported")
    if len(inspected.comparisons) != 1 or " OR " in pattern.upper():
        raise UnsupportedPattern("the pattern must name one value of one observable type")
    [(stix_type, comparisons)] = inspected.comparisons.items()
    props: dict[str, str] = {}
    for path, op, literal in comparisons:
        if op != "=" or len(path) != 1 or not isinstance(path[0], str):
            raise UnsupportedPattern("only equality comparisons of plain properties are supported")
        props[path[0]] = unquote(literal)
    if stix_type == "user-account":
        platform = props.get("account_type")
        native = props.get("user_id") or props.get("account_login")
        if not platform or not native or len(props) != 2:
            raise UnsupportedPattern("a seller account needs account_type and user_id")
        return PatternValue(T.SELLER_ACCOUNT, f"{platform}:{native}")
    if stix_type == "alliance-image-hash":
        algorithm = props.get("algorithm")
        kinds = {v: k for k, v in HASH_ALGORITHMS.items()}
        if algorithm not in kinds or "value" not in props or len(props) != 2:
            raise UnsupportedPattern("an image hash needs algorithm (phash or pdq) and value")
        return PatternValue(kinds[algorithm], props["value"])
    kind = _STANDARD.get(stix_type) or _CUSTOM.get(stix_type)
    if kind is None:
        raise UnsupportedPattern(f"observable type {stix_type!r} is not an indicator type here")
    if set(props) != {"value"}:
        raise UnsupportedPattern(f"a {stix_type} pattern compares its value only")
    if kind == T.LISTING_URL:
        kind = url_type
    return PatternValue(kind, props["value"])
