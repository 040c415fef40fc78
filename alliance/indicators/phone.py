"""Phone numbers in E.164 (``+8613812345678``), parsed and validated by ``phonenumbers``.

A number written without its country code is read in the indicator's country. Valid means
valid for the country's numbering plan as ``phonenumbers`` knows it, not merely the right
length. An extension is kept as a detail; it is not part of E.164.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.normalised import Detail, Normalised
from alliance.indicators.text_input import clean_text

MAX_PHONE_INPUT = 64

_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "has no valid country calling code",
    NumberParseException.NOT_A_NUMBER: "is not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "is too short after its international prefix",
    NumberParseException.TOO_SHORT_NSN: "is too short to be a phone number",
    NumberParseException.TOO_LONG: "is too long to be a phone number",
}


def normalise_phone(value: object, *, country: str | None) -> Normalised:
    text = clean_text(value, max_length=MAX_PHONE_INPUT)
    text = text.removeprefix("tel:").removeprefix("TEL:")
    try:
        number = phonenumbers.parse(text, country)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE and country is None:
            raise InvalidIndicator(
                "value",
                IndicatorErrorCode.COUNTRY_NEEDED,
                "has no country code: write it as +<country code> <number>, "
                "or give the indicator's country",
            ) from None
        why = _PARSE_ERRORS.get(exc.error_type, "is not a phone number")
        raise InvalidIndicator("value", IndicatorErrorCode.INVALID_PHONE, why) from None
    if not phonenumbers.is_valid_number(number):
        region = phonenumbers.region_code_for_country_code(number.country_code)
        where = country if country and number.country_code == _calling_code(country) else region
        place = f"for {where}" if where and where != "ZZ" else f"for +{number.country_code}"
        raise InvalidIndicator(
            "value", IndicatorErrorCode.INVALID_PHONE, f"is not a valid E.164 number {place}"
        )
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    details: list[tuple[str, Detail]] = []
    region = phonenumbers.region_code_for_number(number)
    if region:
        details.append(("region", region))
    if number.extension:
        details.append(("extension", number.extension))
    return Normalised(IndicatorType.PHONE, e164, (), tuple(details))


def _calling_code(country: str) -> int:
    return phonenumbers.country_code_for_region(country)
