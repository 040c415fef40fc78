from __future__ import annotations

import pytest

from alliance.indicators import IndicatorErrorCode, normalise
from alliance.indicators.waybill import s10_check_digit

from .conftest import assert_refused


@pytest.mark.parametrize(
    ("value", "fields"),
    [
        ("RR123456785CN", {"carrier": "china_post"}),
        ("rr 123 456 785 cn", {"carrier": "China Post"}),
        ("RR-123-456-785-CN", {"carrier": "CHINA POST"}),
        ("ＲＲ１２３４５６７８５ＣＮ", {"carrier": "中国邮政"}),
        ("china_post:RR123456785CN", {}),
        ("China Post: RR123456785CN", {}),
        ("china_post:RR123456785CN", {"carrier": "china-post"}),
    ],
)
def test_forms_of_one_waybill_converge(value: str, fields: dict) -> None:
    result = normalise("waybill", value, **fields)
    assert result.value == "china_post:RR123456785CN"
    assert result.match_key("number") == "RR123456785CN"
    assert result.detail("carrier") == "china_post"


def test_the_number_alone_is_a_key_across_carriers() -> None:
    post = normalise("waybill", "LP00123456789012", carrier="cainiao")
    other = normalise("waybill", "lp00123456789012", carrier="AliExpress Standard Shipping")
    assert post == other
    assert normalise("waybill", "LP00123456789012", carrier="4px").match_key("number") == (
        post.match_key("number")
    )


def test_unknown_carriers_are_accepted_under_a_slug() -> None:
    result = normalise("waybill", "BE123456789", carrier="Best Express!")
    assert result.value == "best_express:BE123456789"
    assert normalise("waybill", result.value) == result


def test_s10_check_digit_by_hand() -> None:
    # Weights 8 6 4 2 3 5 9 7; check = 11 - sum mod 11, where 10 gives 0 and 11 gives 5.
    assert s10_check_digit("47312482") == 9  # sum 200, 200 mod 11 = 2
    assert s10_check_digit("12345678") == 5  # sum 204, 204 mod 11 = 6
    assert s10_check_digit("00004000") == 0  # sum 12, 12 mod 11 = 1: 10 gives 0
    assert s10_check_digit("00000000") == 5  # sum 0: 11 gives 5


def test_s10_check_digit_is_verified_for_postal_carriers_only() -> None:
    assert_refused(
        lambda: normalise("waybill", "RR123456784CN", carrier="china_post"),
        IndicatorErrorCode.WAYBILL_CHECK_DIGIT,
        says="check digit",
    )
    assert normalise("waybill", "RR123456784CN", carrier="dhl").value == "dhl:RR123456784CN"


@pytest.mark.parametrize(
    ("value", "fields", "code", "field"),
    [
        ("RR123456785CN", {}, IndicatorErrorCode.REQUIRED, "carrier"),
        ("12345", {"carrier": "dhl"}, IndicatorErrorCode.INVALID_WAYBILL, "value"),
        ("1234567890#", {"carrier": "dhl"}, IndicatorErrorCode.INVALID_WAYBILL, "value"),
        ("1" * 41, {"carrier": "dhl"}, IndicatorErrorCode.INVALID_WAYBILL, "value"),
        ("1234567890", {"carrier": "顺丰快递公司"}, IndicatorErrorCode.INVALID_CARRIER, "carrier"),
        ("1234567890", {"carrier": "\u200b"}, IndicatorErrorCode.EMPTY, "carrier"),
    ],
)
def test_invalid_waybills_are_refused(
    value: str, fields: dict, code: IndicatorErrorCode, field: str
) -> None:
    assert_refused(lambda: normalise("waybill", value, **fields), code, field=field)
