"""GTINs (GTIN-8, UPC-A/GTIN-12, EAN-13/GTIN-13, GTIN-14), padded to 14 digits.

An 8-digit number is read as GTIN-8 (EAN-8); a UPC-E must be expanded to its UPC-A first. The
GS1 element string form ``(01)09506000134352`` is read too.
"""

from __future__ import annotations

import re

from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.normalised import Normalised
from alliance.indicators.text_input import clean_text

GTIN_LENGTHS = (8, 12, 13, 14)


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for the digits before it (weights 3, 1, 3… from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def normalise_gtin(value: object) -> Normalised:
    text = clean_text(value, max_length=64)
    text = re.sub(r"^\(01\)\s*", "", text)
    digits = re.sub(r"[\s-]", "", text)
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidIndicator(
            "value", IndicatorErrorCode.INVALID_FORMAT, "a GTIN is made of digits only"
        )
    if len(digits) not in GTIN_LENGTHS:
        raise InvalidIndicator(
            "value",
            IndicatorErrorCode.GTIN_LENGTH,
            f"has {len(digits)} digits; a GTIN has 8, 12, 13 or 14",
        )
    if gtin_check_digit(digits[:-1]) != int(digits[-1]):
        raise InvalidIndicator(
            "value", IndicatorErrorCode.GTIN_CHECK_DIGIT, "the GTIN check digit fails"
        )
    padded = digits.rjust(14, "0")
    return Normalised(IndicatorType.GTIN, padded, (), (("length", len(digits)),))
