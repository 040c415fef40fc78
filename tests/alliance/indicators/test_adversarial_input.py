"""Input hygiene every type shares: text only, bounded, no control characters, invisible
characters removed."""

from __future__ import annotations

import pytest

from alliance.indicators import IndicatorErrorCode, IndicatorType, normalise
from alliance.indicators.text_input import clean_text, is_default_ignorable, remove_ignorables

from .conftest import assert_refused

FIELDS: dict[IndicatorType, dict[str, object]] = {
    IndicatorType.SELLER_ACCOUNT: {"platform": "ebay"},
    IndicatorType.WAYBILL: {"carrier": "dhl"},
    IndicatorType.IMAGE_PDQ: {"quality": 90},
    IndicatorType.PAYMENT_ACCOUNT: {"kind": "iban"},
}
VALID = {
    IndicatorType.SELLER_ACCOUNT: "cheapkicks99",
    IndicatorType.STOREFRONT_URL: "https://shop.example.com/",
    IndicatorType.LISTING_URL: "https://shop.example.com/item/1",
    IndicatorType.DOMAIN: "shop.example.com",
    IndicatorType.KEYWORD: "replica",
    IndicatorType.BRAND_MISSPELLING: "rolexx",
    IndicatorType.PHONE: "+8613812345678",
    IndicatorType.EMAIL: "shop@example.com",
    IndicatorType.PAYMENT_ACCOUNT: "DE89370400440532013000",
    IndicatorType.ADDRESS: "88 Xixiang Road, Shenzhen",
    IndicatorType.WAYBILL: "1234567890",
    IndicatorType.IMAGE_PHASH: "d1c4b3a29f8e7d6c",
    IndicatorType.IMAGE_PDQ: "ab" * 32,
    IndicatorType.GTIN: "4006381333931",
    IndicatorType.SERIAL_PATTERN: r"SN\d{8}",
    IndicatorType.IP: "203.0.113.7",
}


def run(kind: IndicatorType, value: object) -> str:
    return normalise(kind, value, country="CN", **FIELDS.get(kind, {})).value


def test_every_type_has_a_valid_example() -> None:
    assert set(VALID) == set(IndicatorType)


@pytest.mark.parametrize("kind", list(IndicatorType))
def test_nul_bytes_are_refused_by_every_type(kind: IndicatorType) -> None:
    assert_refused(
        lambda: run(kind, VALID[kind] + "\x00"), IndicatorErrorCode.INVALID_CHARACTER, says="NUL"
    )


@pytest.mark.parametrize("kind", list(IndicatorType))
@pytest.mark.parametrize("control", ["\x01", "\x1b", "\x7f", "\x85", "\x9b"])
def test_other_control_characters_are_refused(kind: IndicatorType, control: str) -> None:
    assert_refused(
        lambda: run(kind, VALID[kind][:2] + control + VALID[kind][2:]),
        IndicatorErrorCode.INVALID_CHARACTER,
    )


@pytest.mark.parametrize("kind", list(IndicatorType))
def test_lone_surrogates_are_refused(kind: IndicatorType) -> None:
    assert_refused(
        lambda: run(kind, VALID[kind] + "\ud800"),
        IndicatorErrorCode.INVALID_CHARACTER,
        says="surrogate",
    )


@pytest.mark.parametrize("kind", list(IndicatorType))
def test_huge_inputs_are_refused_by_length_before_any_work(kind: IndicatorType) -> None:
    assert_refused(lambda: run(kind, VALID[kind] * 200_000), IndicatorErrorCode.TOO_LONG)


@pytest.mark.parametrize("kind", list(IndicatorType))
@pytest.mark.parametrize(
    "invisible",
    [
        "\u200b",
        "\u200c",
        "\u200d",
        "\u2060",
        "\ufeff",
        "\u200e",
        "\u200f",
        "\u202a",
        "\u202e",
        "\u2066",
        "\u2069",
        "\u00ad",
    ],
)
def test_invisible_and_bidirectional_marks_are_removed(kind: IndicatorType, invisible: str) -> None:
    value = VALID[kind]
    assert run(kind, invisible + value[:3] + invisible + value[3:] + invisible) == run(kind, value)


@pytest.mark.parametrize("kind", list(IndicatorType))
def test_surrounding_whitespace_of_any_kind_is_ignored(kind: IndicatorType) -> None:
    value = VALID[kind]
    assert run(kind, f"\u3000\u00a0 {value}\t\n\r ") == run(kind, value)


def test_default_ignorable_code_points() -> None:
    assert all(is_default_ignorable(c) for c in "\u00ad\u034f\u200b\u202e\u2064\ufe0f\ufeff")
    assert is_default_ignorable("\U000e0041")  # tag character
    assert not any(is_default_ignorable(c) for c in "a \u00a0\u3000é1")


def test_removal_agrees_with_the_code_point_table_everywhere() -> None:
    # The fast path (a regex class, ASCII skipped) removes exactly the table's code points.
    disagree = [
        hex(c)
        for c in range(0x110000)
        if not 0xD800 <= c <= 0xDFFF
        and (remove_ignorables(f"a{chr(c)}b") == "ab") != is_default_ignorable(chr(c))
    ]
    assert disagree == []
    assert remove_ignorables("N\u200bi\u00adke\U000e0041\u2060 x") == "Nike x"


def test_clean_text_folds_compatibility_forms_unless_told_not_to() -> None:
    assert clean_text("ＡＢＣ１２３", max_length=10) == "ABC123"
    assert clean_text("ＡＢＣ", max_length=10, nfkc=False) == "ＡＢＣ"
    assert clean_text("  a \u2003\u3000 b  ", max_length=20) == "a b"
