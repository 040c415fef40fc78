"""Waybills: carrier + tracking number, written ``carrier:NUMBER``.

Numbers lose spaces and dashes and are upper-cased. Postal carriers' international items use
UPU S10 numbers (``RR123456785CN``), whose check digit is verified. The number alone is also a
match key, since the same parcel is reported under the postal operator and the logistics brand
that handed it over (``cainiao`` and ``china_post``).

Carriers not in the list are accepted under their own name folded to a slug: carriers come and
go faster than any list.
"""

from __future__ import annotations

import re

from alliance.indicators.account_id import registry_key
from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.normalised import Normalised
from alliance.indicators.text_input import clean_text

MAX_WAYBILL_INPUT = 256
_S10 = re.compile(r"[A-Z]{2}([0-9]{8})([0-9])[A-Z]{2}")
_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)

# slug -> (names it goes by, whether it issues UPU S10 numbers)
CARRIERS: dict[str, tuple[tuple[str, ...], bool]] = {
    "china_post": (("china post", "chinapost", "china ems", "中国邮政"), True),
    "ems": (("ems", "express mail service"), True),
    "usps": (("usps", "us postal service", "united states postal service"), True),
    "royal_mail": (("royal mail",), True),
    "deutsche_post": (("deutsche post",), True),
    "la_poste": (("la poste", "colissimo"), True),
    "japan_post": (("japan post",), True),
    "korea_post": (("korea post",), True),
    "singapore_post": (("singapore post", "singpost"), True),
    "hongkong_post": (("hongkong post", "hong kong post"), True),
    "dhl": (("dhl", "dhl express"), False),
    "fedex": (("fedex", "federal express"), False),
    "ups": (("ups", "united parcel service"), False),
    "tnt": (("tnt",), False),
    "sf_express": (("sf express", "sf", "shunfeng", "顺丰", "顺丰速运"), False),
    "cainiao": (("cainiao", "aliexpress standard shipping", "菜鸟"), False),
    "yunexpress": (("yunexpress", "yun express"), False),
    "yanwen": (("yanwen",), False),
    "4px": (("4px",), False),
    "jt_express": (("j&t express", "jt express", "j&t"), False),
    "zto": (("zto", "zto express"), False),
    "yto": (("yto", "yto express"), False),
    "sto": (("sto", "sto express"), False),
    "yunda": (("yunda",), False),
}
_CARRIER_NAMES = {
    registry_key(name): slug for slug, (names, _) in CARRIERS.items() for name in (slug, *names)
}


def s10_check_digit(serial: str) -> int:
    """The UPU S10 check digit of an 8-digit serial number."""
    check = 11 - sum(int(d) * w for d, w in zip(serial, _S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(check, check)


def _carrier(value: object) -> tuple[str, bool]:
    text = clean_text(value, field="carrier", max_length=64)
    slug = _CARRIER_NAMES.get(registry_key(text))
    if slug is not None:
        return slug, CARRIERS[slug][1]
    slug = re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")
    if not slug.isascii() or not slug:
        raise InvalidIndicator(
            "carrier",
            IndicatorErrorCode.INVALID_CARRIER,
            "must be the carrier's name in Latin letters and digits, such as dhl or china_post",
        )
    return slug, False


def normalise_waybill(value: object, *, carrier: object = None) -> Normalised:
    text = clean_text(value, max_length=MAX_WAYBILL_INPUT)
    if carrier is None:
        head, colon, rest = text.partition(":")
        if not colon:
            raise InvalidIndicator(
                "carrier", IndicatorErrorCode.REQUIRED, "is needed: say which carrier issued it"
            )
        carrier, text = head, rest
    slug, uses_s10 = _carrier(carrier)
    if text.lower().startswith(f"{slug}:"):
        text = text[len(slug) + 1 :]
    number = re.sub(r"[\s-]", "", text).upper()
    if not re.fullmatch(r"[A-Z0-9]{6,40}", number):
        raise InvalidIndicator(
            "value",
            IndicatorErrorCode.INVALID_WAYBILL,
            "a tracking number is 6 to 40 letters and digits",
        )
    s10 = _S10.fullmatch(number)
    if uses_s10 and s10 and s10_check_digit(s10.group(1)) != int(s10.group(2)):
        raise InvalidIndicator(
            "value",
            IndicatorErrorCode.WAYBILL_CHECK_DIGIT,
            "the check digit of this UPU S10 tracking number fails",
        )
    return Normalised(
        IndicatorType.WAYBILL,
        f"{slug}:{number}",
        (("number", number),),
        (("carrier", slug),),
    )
