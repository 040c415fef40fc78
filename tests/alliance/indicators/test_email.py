from __future__ import annotations

import pytest

from alliance.indicators import IndicatorErrorCode, normalise

from .conftest import assert_refused


@pytest.mark.parametrize(
    "value",
    [
        "shop@example.com",
        "Shop@Example.COM",
        " shop@example.com ",
        "mailto:shop@example.com",
        "MAILTO:shop@example.com?subject=order",
        "Cheap Shop <shop@example.com>",
        '"Cheap Shop" <Shop@EXAMPLE.com>',
        "ｓｈｏｐ＠ｅｘａｍｐｌｅ．ｃｏｍ",
        "sh\u200bop@exam\u00adple.com",
        "shop@example.com.",
    ],
)
def test_forms_of_one_address_converge(value: str) -> None:
    assert normalise("email", value).value == "shop@example.com"


def test_subaddress_is_kept_and_also_matched_without_its_tag() -> None:
    tagged = normalise("email", "Shop+AliExpress@example.com")
    plain = normalise("email", "shop@example.com")
    assert tagged.value == "shop+aliexpress@example.com"
    assert tagged.match_key("without_subaddress") == "shop@example.com"
    assert plain.match_key("without_subaddress") == "shop@example.com"
    assert tagged.detail("subaddress") == "aliexpress"
    assert plain.detail("subaddress") is None


def test_a_leading_plus_is_not_a_subaddress() -> None:
    result = normalise("email", "+shop@example.com")
    assert result.match_key("without_subaddress") == "+shop@example.com"


def test_idna_domain_and_unicode_local_part() -> None:
    assert normalise("email", "shop@例え.jp").value == "shop@xn--r8jz45g.jp"
    assert normalise("email", "shop@XN--R8JZ45G.jp").value == "shop@xn--r8jz45g.jp"
    assert normalise("email", "Ñandú@example.com").value == "ñandú@example.com"
    assert normalise("email", "x@example.com").detail("domain") == "example.com"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("shop.example.com", "no @"),
        ("@example.com", "nothing before"),
        ("shop@", "domain"),
        ("shop@localhost", "domain"),
        (".shop@example.com", "dot"),
        ("sh..op@example.com", "dot"),
        ('"shop keeper"@example.com', "quoted"),
        ("shop keeper@example.com", "space"),
        ("sh(op)@example.com", "not allowed"),
        ("a@b@example.com", "not allowed"),
        ("x" * 65 + "@example.com", "64"),
        ("shop@exa mple.com", "space"),
    ],
)
def test_invalid_addresses_are_refused_saying_why(value: str, says: str) -> None:
    assert_refused(lambda: normalise("email", value), IndicatorErrorCode.INVALID_EMAIL, says=says)


def test_control_characters_and_huge_input_are_refused() -> None:
    assert_refused(
        lambda: normalise("email", "shop\x00@example.com"), IndicatorErrorCode.INVALID_CHARACTER
    )
    assert_refused(
        lambda: normalise("email", "a" * 10_000 + "@example.com"), IndicatorErrorCode.TOO_LONG
    )
