from __future__ import annotations

import phonenumbers
import pytest

from alliance.indicators import IndicatorErrorCode, normalise

from .conftest import assert_refused


@pytest.mark.parametrize(
    ("value", "country"),
    [
        ("+86 138 1234 5678", None),
        ("+8613812345678", None),
        ("+86-138-1234-5678", None),
        ("0086 138 1234 5678", "CN"),
        ("138 1234 5678", "CN"),
        ("13812345678", "CN"),
        ("(+86) 138-1234-5678", "DE"),
        ("＋８６ １３８ １２３４ ５６７８", None),
        ("tel:+86-138-1234-5678", None),
        ("+86 138\u200b1234\u200e5678", None),
    ],
)
def test_forms_of_one_number_converge_on_e164(value: str, country: str | None) -> None:
    assert normalise("phone", value, country=country).value == "+8613812345678"


def test_default_region_is_the_indicators_country() -> None:
    assert normalise("phone", "020 7946 0958", country="GB").value == "+442079460958"
    assert normalise("phone", "(202) 555-0143", country="US").value == "+12025550143"
    assert normalise("phone", "030 901820", country="DE").value == "+4930901820"


def test_region_and_extension_are_details() -> None:
    result = normalise("phone", "020 7946 0958 ext. 12", country="GB")
    assert result.value == "+442079460958"
    assert result.detail("region") == "GB"
    assert result.detail("extension") == "12"


def test_vanity_letters_are_read_as_digits() -> None:
    assert normalise("phone", "+1 800 FLOWERS").value == "+18003569377"


@pytest.mark.parametrize("region", ["CN", "HK", "US", "GB", "DE", "IN", "BR", "NG", "RU", "VN"])
def test_each_regions_example_numbers_converge(region: str) -> None:
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    assert normalise("phone", national, country=region).value == e164
    assert normalise("phone", international).value == e164
    assert normalise("phone", e164, country="FR").value == e164


def test_invalid_number_for_the_country_says_so() -> None:
    assert_refused(
        lambda: normalise("phone", "12345678901", country="CN"),
        IndicatorErrorCode.INVALID_PHONE,
        says="not a valid E.164 number for CN",
    )
    assert_refused(
        lambda: normalise("phone", "+44 20 7946 095"),
        IndicatorErrorCode.INVALID_PHONE,
        says="for GB",
    )


def test_national_number_without_a_country_asks_for_one() -> None:
    assert_refused(
        lambda: normalise("phone", "138 1234 5678"),
        IndicatorErrorCode.COUNTRY_NEEDED,
        says="country",
    )


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("not a number", IndicatorErrorCode.INVALID_PHONE),
        ("+999 1234 5678", IndicatorErrorCode.INVALID_PHONE),
        ("1", IndicatorErrorCode.INVALID_PHONE),
        ("+86 138 1234 5678\x00", IndicatorErrorCode.INVALID_CHARACTER),
        ("9" * 65, IndicatorErrorCode.TOO_LONG),
    ],
)
def test_things_that_are_not_phone_numbers_are_refused(
    value: str, code: IndicatorErrorCode
) -> None:
    assert_refused(lambda: normalise("phone", value, country="CN"), code)
