from __future__ import annotations

import functools

from iso3166 import countries_by_alpha2, countries_by_alpha3

from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator
from alliance.indicators.text_input import clean_text

# "UK" is exceptionally reserved by ISO for the United Kingdom and is what people type.
_ALIASES = {"UK": "GB"}


def normalise_country(value: object, *, field: str = "country") -> str:
    """An ISO 3166-1 alpha-2 code from an alpha-2 or alpha-3 code in any case."""
    if isinstance(value, str):
        return _country_of_text(value, field)  # a few codes, asked for again and again
    return _country_of(value, field)


@functools.lru_cache(maxsize=1024)
def _country_of_text(value: str, field: str) -> str:
    return _country_of(value, field)


def _country_of(value: object, field: str) -> str:
    code = clean_text(value, field=field, max_length=16).upper()
    code = _ALIASES.get(code, code)
    if code in countries_by_alpha2:
        return code
    if code in countries_by_alpha3:
        return countries_by_alpha3[code].alpha2
    raise InvalidIndicator(
        field,
        IndicatorErrorCode.INVALID_COUNTRY,
        "is not an ISO 3166-1 country code (give two letters such as CN or DE)",
    )
