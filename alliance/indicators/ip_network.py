"""IP addresses and networks, always in network form: ``203.0.113.7/32``, ``2001:db8::/32``.

An address alone is its own /32 (or /128) network, so "203.0.113.7" and "203.0.113.7/32" are
one value. IPv4-mapped IPv6 addresses are their IPv4 address. A network written with host bits
set (``192.0.2.5/24``) is refused rather than silently widened, and so is a network so broad
that it would match a large part of the Internet.
"""

from __future__ import annotations

import ipaddress

from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.normalised import Normalised
from alliance.indicators.text_input import clean_text

MIN_PREFIX = {4: 16, 6: 32}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse(text: str) -> Network:
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        if "has host bits set" in str(exc):
            wider = ipaddress.ip_network(text, strict=False)
            raise InvalidIndicator(
                "value",
                IndicatorErrorCode.HOST_BITS_SET,
                f"has host bits set for its prefix length: did you mean {wider}?",
            ) from None
        raise InvalidIndicator(
            "value", IndicatorErrorCode.INVALID_IP, "is not an IP address or CIDR network"
        ) from None
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen == 128:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            return ipaddress.IPv4Network(mapped)
    return network


def normalise_ip(value: object) -> Normalised:
    text = clean_text(value, max_length=128).replace(" ", "")
    if text.startswith("[") and "]" in text:
        address, _, rest = text[1:].partition("]")
        text = address + rest
    if "%" in text:
        raise InvalidIndicator(
            "value",
            IndicatorErrorCode.INVALID_IP,
            "has an IPv6 zone (the part after %), which only means something on one machine",
        )
    network = _parse(text)
    if network.prefixlen < MIN_PREFIX[network.version]:
        raise InvalidIndicator(
            "value",
            IndicatorErrorCode.NETWORK_TOO_BROAD,
            f"is too broad: IPv{network.version} networks must be /"
            f"{MIN_PREFIX[network.version]} or narrower",
        )
    return Normalised(IndicatorType.IP, network.with_prefixlen, (), (("version", network.version),))
