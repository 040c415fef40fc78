"""The one entry point: ``normalise(type, value, *, country=None, **fields)``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from alliance.indicators.country_code import normalise_country
from alliance.indicators.domain import normalise_domain
from alliance.indicators.email_address import normalise_email
from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator
from alliance.indicators.gtin import normalise_gtin
from alliance.indicators.image_hash import normalise_pdq, normalise_phash
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.ip_network import normalise_ip
from alliance.indicators.keyword import normalise_keyword
from alliance.indicators.normalised import Normalised
from alliance.indicators.payment_account import normalise_payment_account
from alliance.indicators.phone import normalise_phone
from alliance.indicators.postal_address import COMPONENTS, normalise_address
from alliance.indicators.seller_account import normalise_seller_account
from alliance.indicators.serial_pattern import normalise_serial_pattern
from alliance.indicators.waybill import normalise_waybill
from alliance.indicators.web_url import normalise_web_url

T = IndicatorType
Fields = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class _Rule:
    run: Callable[[object, str | None, Fields], Normalised]
    fields: frozenset[str] = frozenset()


_RULES: dict[IndicatorType, _Rule] = {
    T.SELLER_ACCOUNT: _Rule(
        lambda v, _, f: normalise_seller_account(v, platform=f.get("platform")),
        frozenset({"platform"}),
    ),
    T.STOREFRONT_URL: _Rule(lambda v, _, f: normalise_web_url(v, T.STOREFRONT_URL)),
    T.LISTING_URL: _Rule(lambda v, _, f: normalise_web_url(v, T.LISTING_URL)),
    T.DOMAIN: _Rule(lambda v, _, f: normalise_domain(v)),
    T.KEYWORD: _Rule(lambda v, _, f: normalise_keyword(v, T.KEYWORD)),
    T.BRAND_MISSPELLING: _Rule(lambda v, _, f: normalise_keyword(v, T.BRAND_MISSPELLING)),
    T.PHONE: _Rule(lambda v, country, f: normalise_phone(v, country=country)),
    T.EMAIL: _Rule(lambda v, _, f: normalise_email(v)),
    T.PAYMENT_ACCOUNT: _Rule(
        lambda v, _, f: normalise_payment_account(
            v,
            kind=f.get("kind"),
            provider=f.get("provider"),
            bin_=f.get("bin"),
            last4=f.get("last4"),
        ),
        frozenset({"kind", "provider", "bin", "last4"}),
    ),
    T.ADDRESS: _Rule(
        lambda v, country, f: normalise_address(v, country=country, **f), frozenset(COMPONENTS)
    ),
    T.WAYBILL: _Rule(
        lambda v, _, f: normalise_waybill(v, carrier=f.get("carrier")), frozenset({"carrier"})
    ),
    T.IMAGE_PHASH: _Rule(lambda v, _, f: normalise_phash(v)),
    T.IMAGE_PDQ: _Rule(
        lambda v, _, f: normalise_pdq(v, quality=f.get("quality")), frozenset({"quality"})
    ),
    T.GTIN: _Rule(lambda v, _, f: normalise_gtin(v)),
    T.SERIAL_PATTERN: _Rule(lambda v, _, f: normalise_serial_pattern(v)),
    T.IP: _Rule(lambda v, _, f: normalise_ip(v)),
}
_TYPE_ALIASES = {"cidr": T.IP, "ip_address": T.IP, "url": T.LISTING_URL}


def indicator_type(value: object) -> IndicatorType:
    if isinstance(value, IndicatorType):
        return value
    if isinstance(value, str):
        name = value.strip().lower().replace("-", "_").replace(" ", "_")
        if name in _TYPE_ALIASES:
            return _TYPE_ALIASES[name]
        try:
            return IndicatorType(name)
        except ValueError:
            pass
    known = ", ".join(t.value for t in IndicatorType)
    raise InvalidIndicator(
        "type", IndicatorErrorCode.UNKNOWN_TYPE, f"is not an indicator type (known: {known})"
    )


def normalise(
    type: IndicatorType | str, value: object, *, country: object = None, **fields: object
) -> Normalised:
    """The canonical form of ``value`` as an indicator of ``type``, or ``InvalidIndicator``.

    ``country`` is the indicator's country (ISO 3166-1 alpha-2 or alpha-3): the default region
    for phone numbers and the country of an address. ``fields`` are the type's own parts
    (``platform`` of a seller account, ``carrier`` of a waybill, ``quality`` of a PDQ hash…);
    a field given as ``None`` counts as absent, a field the type does not have is refused.
    """
    kind = indicator_type(type)
    rule = _RULES[kind]
    for name in fields:
        if name not in rule.fields:
            takes = f"; it takes {', '.join(sorted(rule.fields))}" if rule.fields else ""
            raise InvalidIndicator(
                name,
                IndicatorErrorCode.UNEXPECTED_FIELD,
                f"is not a field of a {kind.value} indicator{takes}",
            )
    present = {name: v for name, v in fields.items() if v is not None}
    code = normalise_country(country) if country is not None else None
    return rule.run(value, code, present)
