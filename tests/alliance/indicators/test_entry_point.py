from __future__ import annotations

import pytest

from alliance.errors import InvalidInput
from alliance.indicators import IndicatorErrorCode, IndicatorType, InvalidIndicator, normalise

from .conftest import assert_refused


def test_type_is_taken_as_enum_or_as_its_name_in_any_spelling() -> None:
    expected = normalise(IndicatorType.SELLER_ACCOUNT, "ebay:shop")
    assert normalise("seller_account", "ebay:shop") == expected
    assert normalise(" Seller-Account ", "ebay:shop") == expected
    assert normalise("cidr", "192.0.2.0/24").type is IndicatorType.IP


def test_unknown_type_is_refused_naming_the_known_ones() -> None:
    error = assert_refused(
        lambda: normalise("bitcoin_wallet", "x"), IndicatorErrorCode.UNKNOWN_TYPE, field="type"
    )
    assert "seller_account" in error.message


def test_a_field_the_type_does_not_have_is_refused() -> None:
    error = assert_refused(
        lambda: normalise("domain", "example.com", platform="ebay"),
        IndicatorErrorCode.UNEXPECTED_FIELD,
        field="platform",
    )
    assert "domain" in error.message
    error = assert_refused(
        lambda: normalise("waybill", "RR123456785CN", carier="dhl"),
        IndicatorErrorCode.UNEXPECTED_FIELD,
        field="carier",
    )
    assert "carrier" in error.message


def test_a_field_given_as_none_counts_as_absent() -> None:
    assert normalise("seller_account", "ebay:shop", platform=None).value == "ebay:shop"


@pytest.mark.parametrize("country", ["cn", "CN", "CHN", " chn "])
def test_country_is_iso_alpha2_or_alpha3_in_any_case(country: str) -> None:
    assert normalise("phone", "138 1234 5678", country=country).value == "+8613812345678"


def test_uk_is_read_as_gb() -> None:
    assert normalise("phone", "020 7946 0958", country="UK").value == "+442079460958"


@pytest.mark.parametrize("country", ["XX", "China", "C", "", 86])
def test_invalid_country_is_refused_for_any_type(country: object) -> None:
    error = assert_refused(
        lambda: normalise("domain", "example.com", country=country),
        {86: IndicatorErrorCode.NOT_TEXT, "": IndicatorErrorCode.EMPTY}.get(
            country, IndicatorErrorCode.INVALID_COUNTRY
        ),
        field="country",
    )
    assert error.problems[0].path == ("country",)


def test_refusal_is_an_invalid_input_with_one_field_problem() -> None:
    with pytest.raises(InvalidInput) as info:
        normalise("gtin", "4006381333932")
    error = info.value
    assert isinstance(error, InvalidIndicator)
    assert [(p.path, p.code, p.message) for p in error.problems] == [
        (("value",), "GTIN_CHECK_DIGIT", "the GTIN check digit fails")
    ]
    assert "GTIN_CHECK_DIGIT" in repr(error)


@pytest.mark.parametrize("value", [None, 4006381333931, b"4006381333931", ["x"]])
def test_values_that_are_not_text_are_refused(value: object) -> None:
    code = IndicatorErrorCode.REQUIRED if value is None else IndicatorErrorCode.NOT_TEXT
    assert_refused(lambda: normalise("gtin", value), code)


@pytest.mark.parametrize("kind", list(IndicatorType))
def test_every_type_refuses_empty_and_blank_values(kind: IndicatorType) -> None:
    fields: dict[str, object] = {
        IndicatorType.SELLER_ACCOUNT: {"platform": "ebay"},
        IndicatorType.WAYBILL: {"carrier": "dhl"},
        IndicatorType.IMAGE_PDQ: {"quality": 90},
        IndicatorType.PAYMENT_ACCOUNT: {"kind": "iban"},
    }.get(kind, {})
    for blank in ("", "   ", "\u200b\u200d\ufeff", "\t\n"):
        error = assert_refused(
            lambda blank=blank: normalise(kind, blank, country="CN", **fields),
            IndicatorErrorCode.EMPTY,
        )
        assert error.message
