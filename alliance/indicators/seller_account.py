"""Seller accounts: (platform, native id), written ``platform:id``.

The id may come alone with a ``platform`` field, as ``platform:id``, or as the seller's profile
or shop URL (the platform then follows from the URL's domain when not given).
"""

from __future__ import annotations

from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.normalised import Normalised
from alliance.indicators.platforms import (
    Platform,
    find_platform,
    platform_named,
    registered_platforms,
)
from alliance.indicators.public_suffix import registrable_domain
from alliance.indicators.text_input import clean_text
from alliance.indicators.web_url import parse_url

MAX_SELLER_INPUT = 2048


def _platform(name: object) -> Platform:
    if isinstance(name, str):
        known = platform_named.get(name)  # a listing names its platform each time
        if known is not None:
            return known
    text = clean_text(name, field="platform", max_length=64)
    found = find_platform(text)
    if found is None:
        known = ", ".join(sorted(registered_platforms()))
        raise InvalidIndicator(
            "platform",
            IndicatorErrorCode.UNKNOWN_PLATFORM,
            f"is not a known platform (known: {known})",
        )
    if isinstance(name, str) and len(platform_named) < 1024:
        platform_named[name] = found
    return found


def _looks_like_url(text: str) -> bool:
    head = text.split("/", 1)[0].lower()
    return "://" in text or ("/" in text and "." in head and " " not in head)


def _from_url(text: str, given: Platform | None) -> tuple[Platform, str]:
    url = parse_url(text)
    domain = "" if url.host_is_ip else (registrable_domain(url.host) or "")
    owner = next((p for p in registered_platforms().values() if p.owns_domain(domain)), None)
    if owner is None:
        raise InvalidIndicator(
            "value",
            IndicatorErrorCode.UNKNOWN_PLATFORM,
            "is a URL on a site that is not a known platform: give the platform and the seller id",
        )
    if given is not None and given.slug != owner.slug:
        raise InvalidIndicator(
            "platform",
            IndicatorErrorCode.PLATFORM_MISMATCH,
            f"says {given.name} but the URL is on {owner.name}",
        )
    host = url.host.removeprefix("www.").removeprefix("m.")
    location = f"{host}{url.path}" + (f"?{url.query}" if url.query else "")
    seller_id = owner.seller_id_in_url(location)
    if seller_id is None:
        raise InvalidIndicator(
            "value",
            IndicatorErrorCode.INVALID_ACCOUNT_ID,
            f"is a {owner.name} URL with no seller id in it: give the seller id",
        )
    return owner, seller_id


def normalise_seller_account(value: object, *, platform: object = None) -> Normalised:
    text = clean_text(value, max_length=MAX_SELLER_INPUT)
    given = _platform(platform) if platform is not None else None
    if _looks_like_url(text):
        chosen, native = _from_url(text, given)
    else:
        prefix, colon, rest = text.partition(":")
        named = find_platform(prefix) if colon else None
        if named is not None and given is not None and given.slug != named.slug:
            raise InvalidIndicator(
                "platform",
                IndicatorErrorCode.PLATFORM_MISMATCH,
                f"says {given.name} but the value names {named.name}",
            )
        if named is not None:
            chosen, native = named, rest.strip()
        elif given is not None:
            chosen, native = given, text
        else:
            raise InvalidIndicator(
                "platform",
                IndicatorErrorCode.REQUIRED,
                "is needed: say which platform the seller account is on",
            )
    native = chosen.seller_id.normalise(native, field="value", what=f"{chosen.name} seller id")
    return Normalised(
        IndicatorType.SELLER_ACCOUNT,
        f"{chosen.slug}:{native}",
        (),
        (("platform", chosen.slug), ("native_id", native)),
    )
