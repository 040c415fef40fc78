from __future__ import annotations

import pytest

from alliance.indicators import IndicatorErrorCode, normalise

from .conftest import assert_refused


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("4006381333931", "04006381333931"),  # EAN-13
        ("400-6381-33393-1", "04006381333931"),
        (" 4006381333931 ", "04006381333931"),
        ("４００６３８１３３３９３１", "04006381333931"),
        ("04006381333931", "04006381333931"),
        ("(01)04006381333931", "04006381333931"),
        ("036000291452", "00036000291452"),  # UPC-A
        ("96385074", "00000096385074"),  # GTIN-8
        ("10012345678902", "10012345678902"),  # GTIN-14 with packaging indicator
        ("9506000134352", "09506000134352"),
    ],
)
def test_gtins_are_verified_and_padded_to_14(value: str, expected: str) -> None:
    assert normalise("gtin", value).value == expected


def test_upc_a_and_its_ean13_form_meet() -> None:
    assert normalise("gtin", "036000291452") == normalise("gtin", "0036000291452")


@pytest.mark.parametrize(
    ("value", "code", "says"),
    [
        ("4006381333932", IndicatorErrorCode.GTIN_CHECK_DIGIT, "check digit fails"),
        ("036000291453", IndicatorErrorCode.GTIN_CHECK_DIGIT, "check digit fails"),
        ("400638133393", IndicatorErrorCode.GTIN_CHECK_DIGIT, "check digit fails"),
        ("40063813339", IndicatorErrorCode.GTIN_LENGTH, "11 digits"),
        ("123456789012345", IndicatorErrorCode.GTIN_LENGTH, "8, 12, 13 or 14"),
        ("4006381333931X", IndicatorErrorCode.INVALID_FORMAT, "digits only"),
        ("٤٠٠٦٣٨١٣٣٣٩٣١", IndicatorErrorCode.INVALID_FORMAT, "digits only"),
    ],
)
def test_invalid_gtins_are_refused_saying_why(
    value: str, code: IndicatorErrorCode, says: str
) -> None:
    assert_refused(lambda: normalise("gtin", value), code, says=says)
