from __future__ import annotations

import pytest

from alliance.indicators import IndicatorErrorCode, IndicatorType, normalise
from alliance.indicators.tracking_parameters import is_tracking_parameter

from .conftest import assert_refused


def url(value: str, kind: str = "listing_url") -> str:
    return normalise(kind, value).value


@pytest.mark.parametrize(
    "value",
    [
        "https://shop.example.com/item/123?color=red&size=42",
        "HTTPS://SHOP.EXAMPLE.COM/item/123?size=42&color=red",
        "https://shop.example.com:443/item/123?size=42&color=red#reviews",
        "https://shop.example.com./item/123?color=red&size=42",
        "shop.example.com/item/123?color=red&size=42",
        "//shop.example.com/item/123?color=red&size=42",
        "https:shop.example.com/item/123?color=red&size=42",
        "https:///shop.example.com/item/123?color=red&size=42",
        "  https://shop.example.com/item/123?color=red&size=42  ",
        "https://shop.example.com/item/./x/../123?color=red&size=42",
        "https://shop.example.com/%69tem/123?color=red&size=42",
        "https://user:secret@shop.example.com/item/123?color=red&size=42",
        "https://shop.example.com/item/123?utm_source=ig&color=red&UTM_Medium=x&size=42&fbclid=1",
        "https://shop.example.com/item/123?spm=a2g0o.detail&color=red&scm=1007&size=42&gclid=x",
        "https://shop.example.com/item/123?color=red&&size=42&",
        "https://shop.\u200bexample.com/item/123?color=red&size=42",
        "\u202ehttps://shop.exa\u200dmple.com/item/123?color=red&size=42\u200e",
        "\ufeffhttps://shop.example.com/item/1\u20602\u20663?color=red&size=42",
        "https://ｓｈｏｐ．ｅｘａｍｐｌｅ．ｃｏｍ/item/123?color=red&size=42",
        "https://shop.example.com\t/item/\n123?color=red&size=42",
        "https:\\\\shop.example.com\\item\\123?color=red&size=42",
    ],
)
def test_real_world_forms_of_one_listing_converge(value: str) -> None:
    assert url(value) == "https://shop.example.com/item/123?color=red&size=42"


def test_keys_are_registrable_domain_host_and_location() -> None:
    result = normalise("storefront_url", "http://Fake-Nike.Shop.Example.co.uk:8080/a?b=1")
    assert result.type is IndicatorType.STOREFRONT_URL
    assert result.value == "http://fake-nike.shop.example.co.uk:8080/a?b=1"
    assert result.match_key("registrable_domain") == "example.co.uk"
    assert result.match_key("host") == "fake-nike.shop.example.co.uk"
    assert result.match_key("location") == "fake-nike.shop.example.co.uk:8080/a?b=1"
    assert result.detail("scheme") == "http"


def test_http_and_https_differ_in_value_but_share_the_location_key() -> None:
    plain = normalise("listing_url", "http://example.com/x")
    secure = normalise("listing_url", "https://example.com/x")
    assert plain.value != secure.value
    assert plain.match_key("location") == secure.match_key("location") == "example.com/x"


def test_default_port_is_dropped_only_for_its_own_scheme() -> None:
    assert url("http://example.com:80/") == "http://example.com/"
    assert url("https://example.com:80/") == "https://example.com:80/"
    assert url("http://example.com:443/") == "http://example.com:443/"


def test_private_suffixes_count_so_each_hosted_shop_is_its_own_registrant() -> None:
    result = normalise("storefront_url", "https://fake-nike.myshopify.com/collections/all")
    assert result.match_key("registrable_domain") == "fake-nike.myshopify.com"


def test_host_that_is_a_public_suffix_has_no_registrable_domain() -> None:
    result = normalise("storefront_url", "https://co.uk/")
    assert result.match_key("registrable_domain") is None
    assert result.match_key("host") == "co.uk"


def test_unicode_and_punycode_hosts_meet() -> None:
    unicode = normalise("storefront_url", "https://www.nike-outlet.中国/商品?id=1")
    puny = normalise("storefront_url", "https://WWW.nike-outlet.XN--FIQS8S/%e5%95%86%e5%93%81?id=1")
    assert unicode == puny
    assert unicode.value == "https://www.nike-outlet.xn--fiqs8s/%E5%95%86%E5%93%81?id=1"
    assert unicode.match_key("registrable_domain") == "nike-outlet.xn--fiqs8s"


def test_look_alike_hosts_stay_distinct() -> None:
    latin = normalise("storefront_url", "https://paypal.com/")
    cyrillic = normalise("storefront_url", "https://раypal.com/")
    assert cyrillic.value == "https://xn--ypal-43d9g.com/"
    assert latin != cyrillic


def test_user_part_is_dropped_and_the_last_at_sign_ends_it() -> None:
    assert url("https://nike.com@evil.example/login") == "https://evil.example/login"
    assert url("https://a@b@evil.example/") == "https://evil.example/"


def test_backslash_is_a_slash_as_in_browsers() -> None:
    assert url("https://nike.com\\@evil.example/") == "https://nike.com/@evil.example/"


def test_query_encoding_is_canonical() -> None:
    assert url("https://example.com/s?q=red+shoes") == "https://example.com/s?q=red%20shoes"
    assert url("https://example.com/s?q=red%20shoes") == "https://example.com/s?q=red%20shoes"
    assert url("https://example.com/s?q=a%2bb") == "https://example.com/s?q=a%2Bb"
    assert url("https://example.com/s?q=a%26b&z") == "https://example.com/s?q=a%26b&z"
    assert url("https://example.com/s?flag=&b=1") == "https://example.com/s?b=1&flag"
    assert url("https://example.com/s?b=2&a=2&a=1") == "https://example.com/s?a=1&a=2&b=2"
    assert url("https://example.com/100%") == "https://example.com/100%25"
    assert url("https://example.com/a b") == "https://example.com/a%20b"


def test_only_tracking_parameters_are_dropped() -> None:
    assert url("https://example.com/?utm_campaign=x&ref=abc&qid=1&id=9&tag=shoes") == (
        "https://example.com/?id=9&tag=shoes"
    )
    assert url("https://example.com/?utm_source=x") == "https://example.com/"
    for name in ("utm_source", "UTM_TERM", "spm", "scm", "fbclid", "gclid", "pf_rd_p", "_trksid"):
        assert is_tracking_parameter(name), name
    for name in ("id", "item", "sku", "tag", "page", "q"):
        assert not is_tracking_parameter(name), name


def test_ip_hosts_are_kept_in_canonical_form_without_a_registrable_domain() -> None:
    v4 = normalise("listing_url", "http://203.0.113.7:8080/shop")
    assert v4.value == "http://203.0.113.7:8080/shop"
    assert v4.match_key("registrable_domain") is None
    assert normalise("listing_url", "http://２０３.０.１１３.７:8080/shop").value == v4.value
    v6 = normalise("listing_url", "http://[2001:DB8:0:0::1]/shop")
    assert v6.value == "http://[2001:db8::1]/shop"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("ftp://example.com/file", IndicatorErrorCode.UNSUPPORTED_SCHEME),
        ("javascript:alert(1)", IndicatorErrorCode.UNSUPPORTED_SCHEME),
        ("data:text/html,<script>", IndicatorErrorCode.UNSUPPORTED_SCHEME),
        ("https://example.com:99999/", IndicatorErrorCode.INVALID_PORT),
        ("https://example.com:8o/", IndicatorErrorCode.INVALID_PORT),
        ("https://exa mple.com/", IndicatorErrorCode.INVALID_URL),
        ("https:///", IndicatorErrorCode.INVALID_URL),
        ("https://[2001:db8::1/", IndicatorErrorCode.INVALID_URL),
        ("https://[not-v6]/", IndicatorErrorCode.INVALID_URL),
        ("https://999.1.1.1/", IndicatorErrorCode.INVALID_URL),
        ("https://localhost/", IndicatorErrorCode.NOT_A_DOMAIN),
        ("https://exa_mple-.com/", IndicatorErrorCode.INVALID_DOMAIN),
        ("https://xn--zz.com/", IndicatorErrorCode.INVALID_DOMAIN),
        ("https://a..b.com/", IndicatorErrorCode.INVALID_DOMAIN),
        ("https://%ff.com/", IndicatorErrorCode.INVALID_URL),
        ("https://ex\x00ample.com/", IndicatorErrorCode.INVALID_CHARACTER),
        ("https://example.com/" + "a" * 5000, IndicatorErrorCode.TOO_LONG),
    ],
)
def test_invalid_urls_are_refused_with_a_reason(value: str, code: IndicatorErrorCode) -> None:
    assert_refused(lambda: normalise("listing_url", value), code)


def test_refusal_messages_say_why() -> None:
    assert_refused(
        lambda: normalise("listing_url", "ftp://example.com/"),
        IndicatorErrorCode.UNSUPPORTED_SCHEME,
        says="only http and https",
    )
    assert_refused(
        lambda: normalise("listing_url", "https://ex\x00ample.com/"),
        IndicatorErrorCode.INVALID_CHARACTER,
        says="NUL",
    )
