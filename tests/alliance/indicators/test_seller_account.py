from __future__ import annotations

from dataclasses import replace

import pytest

from alliance.indicators import IndicatorErrorCode, InvalidIndicator, normalise
from alliance.indicators.account_id import AccountIdRule
from alliance.indicators.platforms import (
    Platform,
    find_platform,
    register_platform,
    registered_platforms,
    unregister_platform,
)

from .conftest import assert_refused


def seller(value: str, **fields: object) -> str:
    return normalise("seller_account", value, **fields).value


@pytest.mark.parametrize(
    ("value", "fields"),
    [
        ("A2R2RITDJNW1Q6", {"platform": "amazon"}),
        ("a2r2ritdjnw1q6", {"platform": "Amazon"}),
        (" A2R2RITDJNW1Q6 ", {"platform": "AMAZON"}),
        ("Ａ２Ｒ２ＲＩＴＤＪＮＷ１Ｑ６", {"platform": "amazon"}),
        ("A2R2\u200bRITDJNW1Q6", {"platform": "amazon"}),
        ("amazon:A2R2RITDJNW1Q6", {}),
        ("Amazon: a2r2ritdjnw1q6", {}),
        ("amazon:A2R2RITDJNW1Q6", {"platform": "amazon"}),
        ("https://www.amazon.com/sp?ie=UTF8&seller=A2R2RITDJNW1Q6&ref_=dp_merchant_link", {}),
        ("https://www.amazon.de/s?me=A2R2RITDJNW1Q6&marketplaceID=A1PA6795UKMFR9", {}),
        ("amazon.co.uk/sp?seller=a2r2ritdjnw1q6", {"platform": "amazon"}),
    ],
)
def test_amazon_seller_ids_ignore_case_and_converge(value: str, fields: dict[str, object]) -> None:
    assert seller(value, **fields) == "amazon:A2R2RITDJNW1Q6"


@pytest.mark.parametrize(
    ("value", "fields", "expected"),
    [
        ("@Fake.Nike.Shop", {"platform": "instagram"}, "instagram:fake.nike.shop"),
        ("https://www.instagram.com/fake.nike.shop/", {}, "instagram:fake.nike.shop"),
        ("instagram.com/Fake.Nike.Shop?igsh=abc", {}, "instagram:fake.nike.shop"),
        ("CheapKicks99", {"platform": "eBay"}, "ebay:cheapkicks99"),
        ("https://www.ebay.co.uk/usr/cheapkicks99?_trksid=p2047675", {}, "ebay:cheapkicks99"),
        ("https://www.ebay.com/str/CheapKicks99", {}, "ebay:cheapkicks99"),
        ("https://www.aliexpress.com/store/1101234567", {}, "aliexpress:1101234567"),
        ("1101234567", {"platform": "Ali Express"}, "aliexpress:1101234567"),
        ("https://shop123456789.taobao.com/?spm=a1z10", {}, "taobao:123456789"),
        ("https://www.tiktok.com/@Sneaker.Deals", {}, "tiktok:sneaker.deals"),
        ("https://t.me/cheap_watches_hk", {}, "telegram:cheap_watches_hk"),
        ("https://www.facebook.com/profile.php?id=100012345678", {}, "facebook:100012345678"),
        ("https://www.facebook.com/marketplace/profile/100012345678/", {}, "facebook:100012345678"),
        ("https://www.etsy.com/shop/LuxuryBagsOutlet", {}, "etsy:luxurybagsoutlet"),
        ("https://www.walmart.com/seller/101234567", {}, "walmart:101234567"),
        ("https://shopee.sg/shop/123456", {}, "shopee:123456"),
        ("https://www.dhgate.com/store/21345678", {}, "dhgate:21345678"),
        ("wxid_shop88", {"platform": "weixin"}, "wechat:wxid_shop88"),
    ],
)
def test_each_platform_reads_ids_and_profile_urls(
    value: str, fields: dict[str, object], expected: str
) -> None:
    assert seller(value, **fields) == expected


def test_case_sensitive_platforms_keep_case() -> None:
    assert seller("Shop_Owner1", platform="wechat") == "wechat:Shop_Owner1"
    assert seller("shop_owner1", platform="wechat") != seller("Shop_Owner1", platform="wechat")


def test_details_name_platform_and_native_id() -> None:
    result = normalise("seller_account", "ebay:CheapKicks99")
    assert result.detail("platform") == "ebay"
    assert result.detail("native_id") == "cheapkicks99"
    assert result.match_keys == ()


def test_platform_is_required_when_the_value_does_not_name_one() -> None:
    assert_refused(
        lambda: normalise("seller_account", "cheapkicks99"),
        IndicatorErrorCode.REQUIRED,
        field="platform",
        says="which platform",
    )


def test_unknown_platform_is_refused_naming_the_known_ones() -> None:
    error = assert_refused(
        lambda: normalise("seller_account", "x", platform="myspace"),
        IndicatorErrorCode.UNKNOWN_PLATFORM,
        field="platform",
    )
    assert "amazon" in error.message
    assert "ebay" in error.message


def test_platform_field_and_url_must_agree() -> None:
    assert_refused(
        lambda: normalise("seller_account", "https://www.ebay.com/usr/shop", platform="amazon"),
        IndicatorErrorCode.PLATFORM_MISMATCH,
        field="platform",
        says="eBay",
    )
    assert_refused(
        lambda: normalise("seller_account", "amazon:A2R2RITDJNW1Q6", platform="ebay"),
        IndicatorErrorCode.PLATFORM_MISMATCH,
        field="platform",
    )


def test_url_on_an_unknown_site_or_without_an_id_is_refused() -> None:
    assert_refused(
        lambda: normalise("seller_account", "https://fake-shop.example/seller/1"),
        IndicatorErrorCode.UNKNOWN_PLATFORM,
    )
    assert_refused(
        lambda: normalise("seller_account", "https://www.amazon.com/dp/B000000000"),
        IndicatorErrorCode.INVALID_ACCOUNT_ID,
        says="no seller id",
    )


@pytest.mark.parametrize(
    ("value", "platform"),
    [
        ("A2R2", "amazon"),  # too short
        ("A2R2RITDJ-NW1Q6", "amazon"),
        ("12ab", "aliexpress"),
        ("abc", "telegram"),  # Telegram names have at least 5 characters
        ("has space", "ebay"),
        ("1abcdef", "wechat"),  # WeChat IDs start with a letter
        ("x" * 200, "instagram"),
    ],
)
def test_ids_that_break_the_platform_rule_are_refused_saying_what_is_expected(
    value: str, platform: str
) -> None:
    error = assert_refused(
        lambda: normalise("seller_account", value, platform=platform),
        IndicatorErrorCode.INVALID_ACCOUNT_ID,
    )
    assert "seller id" in error.message


def test_registry_accepts_new_platforms_and_replacements() -> None:
    original = registered_platforms().get("amazon")
    assert find_platform("Mercado Livre") is registered_platforms()["mercadolibre"]
    local = Platform(
        "kaspi",
        "Kaspi.kz",
        AccountIdRule("the numeric merchant id", pattern=r"[0-9]{1,12}"),
        domains=("kaspi.kz",),
        profile_urls=(r"/shop/info/merchant/(?P<id>[0-9]+)",),
    )
    try:
        register_platform(local)
        assert seller("123", platform="Kaspi.kz") == "kaspi:123"
        assert seller("https://kaspi.kz/shop/info/merchant/777/") == "kaspi:777"
        # A replacement takes effect at once, though the name was just looked up.
        register_platform(replace(local, seller_id=AccountIdRule("a letter", pattern="[a-z]")))
        assert seller("q", platform="Kaspi.kz") == "kaspi:q"
        with pytest.raises(InvalidIndicator):
            seller("123", platform="Kaspi.kz")
    finally:
        unregister_platform("kaspi")
    assert find_platform("kaspi") is None
    with pytest.raises(InvalidIndicator, match="not a known platform"):
        seller("123", platform="Kaspi.kz")  # gone, though it was looked up by this name
    assert registered_platforms().get("amazon") is original
    with pytest.raises(ValueError, match="lowercase"):
        register_platform(Platform("Bad Slug", "Bad", AccountIdRule("x")))
