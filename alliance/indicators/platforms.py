"""The platforms seller accounts live on, and how each writes its seller ids.

An extensible registry: ``register_platform`` adds or replaces an entry (a deployment may add
its regional marketplaces at start-up). A platform may also say which domains are its own and
where the seller id sits in a profile or shop URL, so a pasted URL gives the account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType

from alliance.indicators.account_id import AccountIdRule, registry_key


@dataclass(frozen=True, slots=True)
class Platform:
    slug: str
    name: str
    seller_id: AccountIdRule
    aliases: tuple[str, ...] = ()
    # Registrable domains of the platform; "amazon.*" is amazon under any public suffix.
    domains: tuple[str, ...] = ()
    # Searched in "host/path?query" of a normalised URL (host without www. or m.); group "id".
    profile_urls: tuple[str, ...] = ()

    def owns_domain(self, registrable: str) -> bool:
        for domain in self.domains:
            if domain.endswith(".*"):
                if registrable.split(".", 1)[0] == domain[:-2]:
                    return True
            elif registrable == domain:
                return True
        return False

    def seller_id_in_url(self, location: str) -> str | None:
        for pattern in self.profile_urls:
            match = re.search(pattern, location)
            if match:
                return match.group("id")
        return None


_NUMERIC = AccountIdRule("digits only", pattern=r"[0-9]{1,20}")
_HANDLE = r"[a-z0-9._]{1,64}"

INITIAL_PLATFORMS = (
    Platform(
        "amazon",
        "Amazon",
        AccountIdRule(
            "the seller id of 10 to 21 letters and digits, e.g. A2R2RITDJNW1Q6",
            pattern=r"[A-Z0-9]{10,21}",
            case_sensitive=False,
            case="upper",
        ),
        domains=("amazon.*",),
        profile_urls=(r"[?&](?:seller|me)=(?P<id>[A-Za-z0-9]+)",),
    ),
    Platform(
        "ebay",
        "eBay",
        AccountIdRule(
            "the user name (letters, digits, . _ - *)",
            pattern=r"[a-z0-9._*-]{1,64}",
            case_sensitive=False,
        ),
        domains=("ebay.*",),
        profile_urls=(r"^ebay\.[a-z.]+/(?:usr|str)/(?P<id>[^/?]+)",),
    ),
    Platform(
        "aliexpress",
        "AliExpress",
        AccountIdRule("the numeric store id", pattern=r"[0-9]{1,20}"),
        aliases=("ali express",),
        domains=("aliexpress.*",),
        profile_urls=(r"/store/(?:[a-z-]+/)?(?P<id>[0-9]+)",),
    ),
    Platform(
        "alibaba",
        "Alibaba.com",
        AccountIdRule(
            "the supplier's sub-domain name", pattern=r"[a-z0-9-]{1,64}", case_sensitive=False
        ),
        domains=("alibaba.com",),
        profile_urls=(r"^(?P<id>[a-z0-9-]+)\.en\.alibaba\.com",),
    ),
    Platform(
        "taobao",
        "Taobao",
        AccountIdRule("the numeric shop id", pattern=r"[0-9]{1,20}"),
        domains=("taobao.com",),
        profile_urls=(r"^shop(?P<id>[0-9]+)\.taobao\.com",),
    ),
    Platform("tmall", "Tmall", _NUMERIC, domains=("tmall.com",)),
    Platform(
        "jd",
        "JD.com",
        _NUMERIC,
        aliases=("jingdong",),
        domains=("jd.com",),
        profile_urls=(r"^mall\.jd\.com/index-(?P<id>[0-9]+)",),
    ),
    Platform(
        "pinduoduo",
        "Pinduoduo",
        _NUMERIC,
        aliases=("pdd",),
        domains=("pinduoduo.com", "yangkeduo.com"),
    ),
    Platform(
        "shopee",
        "Shopee",
        AccountIdRule(
            "the numeric shop id or the user name", pattern=_HANDLE, case_sensitive=False
        ),
        domains=("shopee.*",),
        profile_urls=(r"/shop/(?P<id>[0-9]+)",),
    ),
    Platform(
        "lazada",
        "Lazada",
        AccountIdRule(
            "the shop's name in its URL", pattern=r"[a-z0-9-]{1,64}", case_sensitive=False
        ),
        domains=("lazada.*",),
        profile_urls=(r"/shop/(?P<id>[a-z0-9-]+)",),
    ),
    Platform(
        "mercadolibre",
        "Mercado Libre",
        AccountIdRule(
            "the numeric seller id or the nickname",
            pattern=r"[a-z0-9._-]{1,64}",
            case_sensitive=False,
        ),
        aliases=("mercado livre",),
        domains=("mercadolibre.*", "mercadolivre.*"),
    ),
    Platform(
        "etsy",
        "Etsy",
        AccountIdRule(
            "the shop name (letters and digits)", pattern=r"[a-z0-9]{1,64}", case_sensitive=False
        ),
        domains=("etsy.com",),
        profile_urls=(r"^etsy\.com/(?:[a-z-]+/)?shop/(?P<id>[A-Za-z0-9]+)",),
    ),
    Platform(
        "walmart",
        "Walmart Marketplace",
        _NUMERIC,
        domains=("walmart.*",),
        profile_urls=(r"/seller/(?P<id>[0-9]+)",),
    ),
    Platform(
        "temu", "Temu", _NUMERIC, domains=("temu.com",), profile_urls=(r"-m-(?P<id>[0-9]+)\.html",)
    ),
    Platform(
        "dhgate",
        "DHgate",
        _NUMERIC,
        domains=("dhgate.com",),
        profile_urls=(r"/store/(?:[a-z-]+/)?(?P<id>[0-9]+)",),
    ),
    Platform(
        "ozon",
        "Ozon",
        _NUMERIC,
        domains=("ozon.*",),
        profile_urls=(r"/seller/(?:[a-z0-9-]*-)?(?P<id>[0-9]+)/?",),
    ),
    Platform(
        "wildberries",
        "Wildberries",
        _NUMERIC,
        domains=("wildberries.*", "wb.ru"),
        profile_urls=(r"/seller/(?P<id>[0-9]+)",),
    ),
    Platform(
        "vinted",
        "Vinted",
        _NUMERIC,
        domains=("vinted.*",),
        profile_urls=(r"/member/(?P<id>[0-9]+)",),
    ),
    Platform(
        "rakuten",
        "Rakuten",
        AccountIdRule(
            "the shop's name in its URL", pattern=r"[a-z0-9_-]{1,64}", case_sensitive=False
        ),
        domains=("rakuten.co.jp",),
        profile_urls=(r"^rakuten\.co\.jp/(?P<id>[a-z0-9_-]+)/?$",),
    ),
    Platform(
        "facebook",
        "Facebook",
        AccountIdRule(
            "the numeric profile id or the user name",
            pattern=r"[a-z0-9.]{1,64}",
            case_sensitive=False,
        ),
        aliases=("fb", "facebook marketplace"),
        domains=("facebook.com", "fb.com"),
        profile_urls=(
            r"/profile\.php\?(?:.*&)?id=(?P<id>[0-9]+)",
            r"/marketplace/profile/(?P<id>[0-9]+)",
            r"^facebook\.com/(?P<id>[A-Za-z0-9.]{5,})/?$",
        ),
    ),
    Platform(
        "instagram",
        "Instagram",
        AccountIdRule(
            "the user name (letters, digits, . and _)",
            pattern=r"[a-z0-9._]{1,30}",
            case_sensitive=False,
            prefixes=("@",),
        ),
        aliases=("ig",),
        domains=("instagram.com",),
        profile_urls=(r"^instagram\.com/(?P<id>[A-Za-z0-9._]+)/?$",),
    ),
    Platform(
        "tiktok",
        "TikTok",
        AccountIdRule(
            "the user name (letters, digits, . and _)",
            pattern=r"[a-z0-9._]{1,24}",
            case_sensitive=False,
            prefixes=("@",),
        ),
        aliases=("tik tok",),
        domains=("tiktok.com",),
        profile_urls=(r"^tiktok\.com/@(?P<id>[A-Za-z0-9._]+)",),
    ),
    Platform(
        "telegram",
        "Telegram",
        AccountIdRule(
            "the user name (5 to 32 letters, digits and _)",
            pattern=r"[a-z0-9_]{5,32}",
            case_sensitive=False,
            prefixes=("@",),
        ),
        domains=("t.me", "telegram.me"),
        profile_urls=(r"^(?:t|telegram)\.me/(?P<id>[A-Za-z0-9_]{5,32})/?$",),
    ),
    Platform(
        "wechat",
        "WeChat",
        AccountIdRule(
            "the WeChat ID (6 to 20 letters, digits, _ and -, starting with a letter)",
            pattern=r"[A-Za-z][A-Za-z0-9_-]{5,19}",
        ),
        aliases=("weixin",),
    ),
)

_registry: dict[str, Platform] = {}
_names: dict[str, str] = {}
# A platform as named in input ("eBay", "ebay") -> the platform: read through by the seller
# account normaliser, emptied whenever the registry changes.
platform_named: dict[str, Platform] = {}


def register_platform(platform: Platform) -> None:
    """Add a platform, or replace the one with the same slug."""
    if registry_key(platform.slug) != platform.slug:
        raise ValueError(f"platform slug {platform.slug!r} must be lowercase letters and digits")
    _registry[platform.slug] = platform
    platform_named.clear()
    for name in (platform.slug, platform.name, *platform.aliases):
        _names[registry_key(name)] = platform.slug


def unregister_platform(slug: str) -> None:
    _registry.pop(slug, None)
    platform_named.clear()
    for name in [name for name, owner in _names.items() if owner == slug]:
        del _names[name]


def find_platform(name: str) -> Platform | None:
    slug = _names.get(registry_key(name))
    return _registry.get(slug) if slug else None


def registered_platforms() -> MappingProxyType[str, Platform]:
    return MappingProxyType(_registry)


for _platform in INITIAL_PLATFORMS:
    register_platform(_platform)
