"""Payment cards as BIN + last four digits, never the full card number.

A full card number (PAN) is never stored, whatever its check digit: any run of twelve or more
digits is refused, and the refusal does not repeat the number. The BIN is the first six or
eight digits; the value keeps what was given, and a six-digit key lets an eight-digit BIN meet
the six-digit one of the same card.
"""

from __future__ import annotations

import re

from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator

# "411111******1111", "4111 11** **** 1111", "41111111…1111", "411111xxxxxx1111"
_MASKED = re.compile(r"([0-9]+)[*xX•·#_.…]+([0-9]+)")
_REFUSE_PAN = "a full card number is never stored: give the BIN and last four digits"


def _without_separators(text: str) -> str:
    return re.sub(r"[\s\-]", "", text)


def looks_like_full_card_number(text: str) -> bool:
    return re.search(r"[0-9]{12,}", _without_separators(text)) is not None


def refuse_full_card_number(field: str) -> InvalidIndicator:
    return InvalidIndicator(field, IndicatorErrorCode.FULL_CARD_NUMBER, _REFUSE_PAN)


def card_bin_and_last4(text: str | None, *, bin_: str | None, last4: str | None) -> tuple[str, str]:
    """(BIN, last four) from a masked number or from the ``bin`` and ``last4`` fields."""
    for name, part in (("value", text), ("bin", bin_), ("last4", last4)):
        if part is not None and looks_like_full_card_number(part):
            raise refuse_full_card_number(name)
    if bin_ is not None or last4 is not None:
        if text:
            raise InvalidIndicator(
                "value",
                IndicatorErrorCode.INVALID_CARD,
                "give either a masked card number or the bin and last4 fields, not both",
            )
        if bin_ is None or last4 is None:
            missing = "bin" if bin_ is None else "last4"
            raise InvalidIndicator(
                missing,
                IndicatorErrorCode.REQUIRED,
                "is needed: give the BIN and last four digits",
            )
        first, last = _without_separators(bin_), _without_separators(last4)
    else:
        match = _MASKED.fullmatch(_without_separators(text or ""))
        if not match:
            raise InvalidIndicator(
                "value",
                IndicatorErrorCode.INVALID_CARD,
                "is not a masked card number such as 411111******1111: "
                "give the BIN and last four digits",
            )
        first, last = match.group(1), match.group(2)
    if not (first.isascii() and first.isdigit() and len(first) in (6, 8)):
        raise InvalidIndicator(
            "bin", IndicatorErrorCode.INVALID_CARD, "a BIN is the first 6 or 8 digits of the card"
        )
    if not (last.isascii() and last.isdigit() and len(last) == 4):
        raise InvalidIndicator(
            "last4",
            IndicatorErrorCode.INVALID_CARD,
            "give exactly the last four digits of the card",
        )
    return first, last
