"""IBANs: country, length, account format, ISO 7064 mod 97-10 checksum, and where
``python-stdnum`` knows it, the national check digits inside the account number.

The per-country account formats come from the IBAN registry data shipped in ``python-stdnum``.
"""

from __future__ import annotations

import re

from stdnum import numdb
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.util import get_cc_module

from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator

MAX_IBAN_LENGTH = 34
_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]+")
_STRUCTURE_PART = re.compile(r"([1-9][0-9]*)!([nac])")
_STRUCTURE_CHARS = {"n": "[0-9]", "a": "[A-Z]", "c": "[A-Z0-9]"}


def mod97(text: str) -> int:
    """ISO 7064 mod 97-10 of an IBAN moved into checking order (letters as 10…35)."""
    rearranged = text[4:] + text[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97


def iban_check_digits(country: str, bban: str) -> str:
    return f"{98 - mod97(f'{country}00{bban}'):02d}"


def compact_iban(text: str) -> str:
    text = text.upper().removeprefix("IBAN").lstrip(":").strip()
    return re.sub(r"[\s.\-]", "", text)


def validate_iban(text: str, *, field: str = "value") -> str:
    """The electronic form of an IBAN (upper case, no spaces), or a refusal saying why."""
    number = compact_iban(text)
    if not _SHAPE.fullmatch(number) or len(number) > MAX_IBAN_LENGTH:
        raise InvalidIndicator(
            field,
            IndicatorErrorCode.IBAN_FORMAT,
            "is not an IBAN: two letters, two check digits, then the account number",
        )
    country = number[:2]
    info = numdb.get("iban").info(number)[0][1]
    structure = info.get("bban")
    if not structure:
        raise InvalidIndicator(
            field, IndicatorErrorCode.IBAN_COUNTRY, f"{country} is not a country that issues IBANs"
        )
    parts = _STRUCTURE_PART.findall(structure)
    expected = 4 + sum(int(n) for n, _ in parts)
    if len(number) != expected:
        raise InvalidIndicator(
            field,
            IndicatorErrorCode.IBAN_LENGTH,
            f"has {len(number)} characters; an IBAN from {country} has {expected}",
        )
    bban = "".join(f"{_STRUCTURE_CHARS[kind]}{{{n}}}" for n, kind in parts)
    if not re.fullmatch(bban, number[4:]):
        raise InvalidIndicator(
            field,
            IndicatorErrorCode.IBAN_FORMAT,
            f"has an account number that does not fit the format of {country} IBANs",
        )
    if mod97(number) != 1:
        raise InvalidIndicator(field, IndicatorErrorCode.IBAN_CHECKSUM, "IBAN checksum fails")
    national = get_cc_module(country.lower(), "iban")
    if national is not None:
        try:
            national.validate(number)
        except InvalidChecksum:
            raise InvalidIndicator(
                field,
                IndicatorErrorCode.IBAN_NATIONAL_CHECKSUM,
                f"IBAN checksum passes but the {country} national check digits inside it fail",
            ) from None
        except ValidationError:
            # Other national checks look bank codes up in lists that lag behind the banks;
            # an unknown bank code is no reason to refuse an account that checks out.
            pass
    return number
