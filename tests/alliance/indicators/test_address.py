from __future__ import annotations

import pytest

from alliance.indicators import IndicatorErrorCode, normalise

from .conftest import assert_refused

EXPECTED = "CN:room 1201 88 xixiang road baoan district shenzhen guangdong 518102"


@pytest.mark.parametrize(
    ("value", "country"),
    [
        ("Room 1201, 88 Xixiang Road, Bao'an District, Shenzhen, Guangdong 518102", "CN"),
        ("Room 1201, 88 Xixiang Road, Bao'an District, Shenzhen, Guangdong 518102, China", "CN"),
        (
            "ROOM 1201\n88 XIXIANG ROAD\nBAO’AN DISTRICT\nSHENZHEN GUANGDONG 518102\nP.R. China",
            "CHN",
        ),
        (
            "Room 1201,88 Xixiang Road,Bao'an District,Shenzhen,Guangdong,518102,People's Republic of China",
            "cn",
        ),
        (
            "Ｒｏｏｍ １２０１， ８８ Ｘｉｘｉａｎｇ Ｒｏａｄ， Ｂａｏ'ａｎ Ｄｉｓｔｒｉｃｔ， Ｓｈｅｎｚｈｅｎ， Ｇｕａｎｇｄｏｎｇ ５１８１０２",
            "CN",
        ),
        ("Room 1201; 88 Xixiang Road; Bao\u200ban District; Shenzhen; Guangdong 518102", "CN"),
        ("China, Room 1201, 88 Xixiang Road, Bao'an District, Shenzhen, Guangdong 518102", "CN"),
        (EXPECTED, None),
        (EXPECTED, "CN"),
    ],
)
def test_one_line_and_multi_line_forms_converge(value: str, country: str | None) -> None:
    assert normalise("address", value, country=country).value == EXPECTED


def test_components_give_the_same_value() -> None:
    result = normalise(
        "address",
        None,
        country="CN",
        line1="Room 1201, 88 Xixiang Road",
        line2="Bao'an District",
        city="Shenzhen",
        region="Guangdong",
        postal_code="518102",
    )
    assert result.value == EXPECTED
    assert result.detail("country") == "CN"
    assert result.detail("city") == "shenzhen"
    assert result.detail("postal_code") == "518102"
    assert normalise("address", "", country="CN", line1="88 Xixiang Road").value == (
        "CN:88 xixiang road"
    )


def test_country_is_part_of_the_value() -> None:
    assert normalise("address", "1 Main Street, Springfield", country="US").value != (
        normalise("address", "1 Main Street, Springfield", country="GB").value
    )


def test_a_part_that_only_resembles_the_country_is_kept() -> None:
    assert normalise("address", "12 China Street, Leeds", country="GB").value == (
        "GB:12 china street leeds"
    )


def test_non_latin_addresses_keep_their_script() -> None:
    result = normalise("address", "广东省深圳市宝安区西乡街道88号", country="CN")
    assert result.value == "CN:广东省深圳市宝安区西乡街道88号"


@pytest.mark.parametrize(
    ("value", "country", "fields", "code", "field"),
    [
        ("88 Xixiang Road", None, {}, IndicatorErrorCode.REQUIRED, "country"),
        ("CN:88 Xixiang Road", "DE", {}, IndicatorErrorCode.INVALID_COUNTRY, "country"),
        ("88 Xixiang Road", "ZZ", {}, IndicatorErrorCode.INVALID_COUNTRY, "country"),
        (", , ;", "CN", {}, IndicatorErrorCode.EMPTY, "value"),
        ("China", "CN", {}, IndicatorErrorCode.EMPTY, "value"),
        ("88 Road", "CN", {"city": "Shenzhen"}, IndicatorErrorCode.INVALID_FORMAT, "value"),
        ("88 Road\x00", "CN", {}, IndicatorErrorCode.INVALID_CHARACTER, "value"),
        ("x" * 3000, "CN", {}, IndicatorErrorCode.TOO_LONG, "value"),
        (None, "CN", {"city": "x" * 600}, IndicatorErrorCode.TOO_LONG, "city"),
        (None, "CN", {"city": 7}, IndicatorErrorCode.NOT_TEXT, "city"),
    ],
)
def test_invalid_addresses_are_refused(
    value: str | None, country: str | None, fields: dict, code: IndicatorErrorCode, field: str
) -> None:
    assert_refused(
        lambda: normalise("address", value, country=country, **fields), code, field=field
    )
