"""STIX patterns for every indicator type: valid STIX 2.1, escaped, and read back exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stix2patterns.validator import run_validator

from alliance.indicators.indicator_type import IndicatorType as T
from alliance.stix.patterns import (
    PatternValue,
    UnsupportedPattern,
    pattern_for,
    quote,
    read_pattern,
    unquote,
)

VALUES = {
    T.SELLER_ACCOUNT: "shopee:58200417",
    T.STOREFRONT_URL: "https://shop106532.taobao.com/",
    T.LISTING_URL: "https://item.example.com/item.htm?id=1&q='x'",
    T.DOMAIN: "fake-brand.example.com",
    T.KEYWORD: "airbag oem cheap",
    T.BRAND_MISSPELLING: "acmee",
    T.PHONE: "+8675526881234",
    T.EMAIL: "a.b+x@example.com",
    T.PAYMENT_ACCOUNT: "wallet:alipay:13800138000",
    T.ADDRESS: "CN:1 main st shenzhen",
    T.WAYBILL: "sf_express:SF1234567890123",
    T.IMAGE_PHASH: "ffeeddccbbaa9988",
    T.IMAGE_PDQ: "f" * 64,
    T.GTIN: "04006381333931",
    T.SERIAL_PATTERN: r"AB-\d{6}",
    T.IP: "2001:db8::/32",
}


def test_every_type_has_a_value_here() -> None:
    assert set(VALUES) == set(T)


@pytest.mark.parametrize("kind", list(T))
def test_patterns_are_valid_stix_and_read_back(kind: T) -> None:
    pattern = pattern_for(kind, VALUES[kind])
    assert run_validator(pattern, "2.1") == []
    url_type = kind if kind in (T.LISTING_URL, T.STOREFRONT_URL) else T.LISTING_URL
    assert read_pattern(pattern, url_type=url_type) == PatternValue(kind, VALUES[kind])


def test_standard_observables_where_stix_has_them() -> None:
    assert pattern_for(T.DOMAIN, "x.example") == "[domain-name:value = 'x.example']"
    assert pattern_for(T.IP, "192.0.2.1/32") == "[ipv4-addr:value = '192.0.2.1/32']"
    assert pattern_for(T.EMAIL, "a@x.example") == "[email-addr:value = 'a@x.example']"
    assert pattern_for(T.SELLER_ACCOUNT, "ebay:bob") == (
        "[user-account:account_type = 'ebay' AND user-account:user_id = 'bob']"
    )


@given(st.text())
def test_any_text_survives_quoting(text: str) -> None:
    assert unquote(quote(text)) == text


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=50))
def test_any_keyword_survives_a_pattern(text: str) -> None:
    pattern = pattern_for(T.KEYWORD, text)
    assert read_pattern(pattern) == PatternValue(T.KEYWORD, text)


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ("[domain-name:value = 'a.example'] AND [url:value = 'http://a/']", "single observation"),
        ("[domain-name:value = 'a.example' OR domain-name:value = 'b.example']", "one value"),
        ("[domain-name:value LIKE 'a%']", "equality"),
        ("[file:name = 'x.exe']", "not an indicator type"),
        ("[user-account:user_id = 'bob']", "account_type"),
        ("[alliance-image-hash:value = 'ff']", "algorithm"),
        ("[domain-name:value = 'a.example'] WITHIN 5 SECONDS", "qualifiers"),
        ("not a pattern", "not a valid"),
    ],
)
def test_patterns_naming_no_single_value_are_refused(pattern: str, says: str) -> None:
    with pytest.raises(UnsupportedPattern) as info:
        read_pattern(pattern)
    assert says in str(info.value)
