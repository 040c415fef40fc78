"""Postal addresses: components and an ISO country, with one normalised single-line key.

The value is ``CC:words`` — the country, then every word of the address in order, NFKC with
case folded, apostrophes joined (``Bao'an`` → ``baoan``), other punctuation made a space — so
the same address written on one line, on several, or in components (line1, line2, city,
region, postal_code, in that order) is one value. A first or last part naming the country
("…, China") is dropped, since the country is already there. Abbreviations (Rd, Road) are not
expanded: that is language-specific, and a wrong expansion merges addresses.
"""

from __future__ import annotations

import re
from functools import cache

from iso3166 import countries_by_alpha2

from alliance.indicators.country_code import normalise_country
from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.keyword import fold_case
from alliance.indicators.normalised import Detail, Normalised
from alliance.indicators.text_input import optional_text, require_text

COMPONENTS = ("line1", "line2", "city", "region", "postal_code")
MAX_ADDRESS_INPUT = 2048
MAX_COMPONENT = 512

_OTHER_COUNTRY_NAMES = {
    "CN": ("prc", "people's republic of china", "p.r. china", "中国", "中华人民共和国"),
    "US": ("usa", "u s a", "united states", "united states of america", "america"),
    "GB": ("uk", "united kingdom", "great britain"),
    "HK": ("hong kong sar", "香港"),
    "TW": ("taiwan", "台灣", "台湾"),
    "KR": ("south korea", "korea", "republic of korea"),
    "RU": ("russia",),
    "VN": ("vietnam", "viet nam"),
    "AE": ("uae",),
    "DE": ("germany", "deutschland"),
}
_CANONICAL = re.compile(r"([A-Za-z]{2}):(.*)", re.DOTALL)


def address_words(text: str) -> list[str]:
    text = re.sub(r"['’`´ʼ]", "", fold_case(text))
    text = re.sub(r"[^\w/-]+", " ", text)
    return [w for w in (word.strip("-/") for word in text.split()) if w]


@cache
def _country_names(country: str) -> frozenset[tuple[str, ...]]:
    info = countries_by_alpha2[country]
    names = {info.alpha2, info.alpha3, info.name, info.apolitical_name}
    names.update(_OTHER_COUNTRY_NAMES.get(country, ()))
    return frozenset(tuple(address_words(n)) for n in names)


def _drop_country_parts(parts: list[list[str]], country: str) -> list[list[str]]:
    names = _country_names(country)
    if parts and tuple(parts[-1]) in names:
        parts = parts[:-1]
    if parts and tuple(parts[0]) in names:
        parts = parts[1:]
    return parts


def _country(country: object, written: str | None) -> str:
    given = normalise_country(country) if country is not None else None
    if written is not None and given is not None and written != given:
        raise InvalidIndicator(
            "country",
            IndicatorErrorCode.INVALID_COUNTRY,
            f"is {given} but the address is written for {written}",
        )
    chosen = written or given
    if chosen is None:
        raise InvalidIndicator(
            "country", IndicatorErrorCode.REQUIRED, "is needed: say which country the address is in"
        )
    return chosen


def normalise_address(value: object, *, country: object = None, **components: object) -> Normalised:
    given = {
        name: optional_text(components.get(name), field=name, max_length=MAX_COMPONENT)
        for name in COMPONENTS
    }
    given_parts = {name: text for name, text in given.items() if text}
    text = "" if value is None else require_text(value, field="value", max_length=MAX_ADDRESS_INPUT)
    written = None
    canonical = _CANONICAL.fullmatch(text.strip())
    if canonical and canonical.group(1).upper() in countries_by_alpha2:
        written, text = canonical.group(1).upper(), canonical.group(2)
    chosen = _country(country, written)
    if given_parts and text.strip():
        raise InvalidIndicator(
            "value",
            IndicatorErrorCode.INVALID_FORMAT,
            "give the address either as text or as components, not both",
        )
    if given_parts:
        parts = [address_words(given_parts[name]) for name in COMPONENTS if name in given_parts]
    else:
        parts = [address_words(part) for part in re.split(r"[,\n;，、]+", text)]
    parts = _drop_country_parts([p for p in parts if p], chosen)
    words = [w for part in parts for w in part]
    if not words:
        raise InvalidIndicator("value", IndicatorErrorCode.EMPTY, "has no address in it")
    details: list[tuple[str, Detail]] = [("country", chosen)]
    details += [(name, " ".join(address_words(t))) for name, t in given_parts.items()]
    return Normalised(IndicatorType.ADDRESS, f"{chosen}:{' '.join(words)}", (), tuple(details))
