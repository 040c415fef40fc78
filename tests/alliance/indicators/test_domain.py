from __future__ import annotations

import pytest

from alliance.indicators import IndicatorErrorCode, normalise

from .conftest import assert_refused


@pytest.mark.parametrize(
    "value",
    [
        "nike-outlet.example.com",
        "NIKE-OUTLET.Example.COM",
        "nike-outlet.example.com.",
        " nike-outlet.example.com ",
        "ｎｉｋｅ－ｏｕｔｌｅｔ．ｅｘａｍｐｌｅ．ｃｏｍ",
        "nike-outlet。example。com",
        "nike-\u00adoutlet.exa\u200bmple.com",
        "https://nike-outlet.example.com/sale?utm_source=x",
        "http://user@nike-outlet.example.com:8080/",
        "*.nike-outlet.example.com",
        ".nike-outlet.example.com",
    ],
)
def test_forms_of_one_domain_converge(value: str) -> None:
    result = normalise("domain", value)
    assert result.value == "nike-outlet.example.com"
    assert result.match_key("registrable_domain") == "example.com"


@pytest.mark.parametrize(
    ("value", "ascii", "registrable"),
    [
        ("bücher.de", "xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("XN--BCHER-KVA.DE", "xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("耐克.中国", "xn--74q035i.xn--fiqs8s", "xn--74q035i.xn--fiqs8s"),
        ("shop.example.co.uk", "shop.example.co.uk", "example.co.uk"),
        ("a.b.example.com.cn", "a.b.example.com.cn", "example.com.cn"),
        ("fake.myshopify.com", "fake.myshopify.com", "fake.myshopify.com"),
        ("example.unknowntld", "example.unknowntld", "example.unknowntld"),
        ("_dmarc.example.com", "_dmarc.example.com", "example.com"),
    ],
)
def test_idna_and_registrable_domain(value: str, ascii: str, registrable: str) -> None:
    result = normalise("domain", value)
    assert result.value == ascii
    assert result.match_key("registrable_domain") == registrable


def test_unicode_form_is_kept_for_display() -> None:
    assert normalise("domain", "xn--bcher-kva.de").detail("unicode") == "bücher.de"


def test_public_suffix_alone_has_no_registrable_domain() -> None:
    result = normalise("domain", "co.uk")
    assert result.value == "co.uk"
    assert result.match_keys == ()


def test_mixed_script_look_alike_is_its_own_domain() -> None:
    assert normalise("domain", "раypal.com").value == "xn--ypal-43d9g.com"
    assert normalise("domain", "paypal.com").value == "paypal.com"


@pytest.mark.parametrize(
    ("value", "code", "says"),
    [
        ("localhost", IndicatorErrorCode.NOT_A_DOMAIN, "full domain name"),
        ("192.0.2.1", IndicatorErrorCode.NOT_A_DOMAIN, "ip type"),
        ("http://192.0.2.1/", IndicatorErrorCode.NOT_A_DOMAIN, "ip type"),
        ("example..com", IndicatorErrorCode.INVALID_DOMAIN, "empty label"),
        ("-example.com", IndicatorErrorCode.INVALID_DOMAIN, "hyphen"),
        ("exa mple.com", IndicatorErrorCode.INVALID_DOMAIN, "letters, digits"),
        ("exa!mple.com", IndicatorErrorCode.INVALID_DOMAIN, "letters, digits"),
        ("xn--abc.com", IndicatorErrorCode.INVALID_DOMAIN, "punycode"),
        ("i❤.ws", IndicatorErrorCode.INVALID_DOMAIN, "internationalised"),
        ("a" * 64 + ".com", IndicatorErrorCode.INVALID_DOMAIN, "63"),
        (("a" * 60 + ".") * 5 + "com", IndicatorErrorCode.TOO_LONG, "253"),
        ("ex\x00ample.com", IndicatorErrorCode.INVALID_CHARACTER, "NUL"),
        ("a" * 2000, IndicatorErrorCode.TOO_LONG, "longer"),
    ],
)
def test_invalid_domains_are_refused_saying_why(
    value: str, code: IndicatorErrorCode, says: str
) -> None:
    assert_refused(lambda: normalise("domain", value), code, says=says)
