from __future__ import annotations

import pytest

from alliance.indicators import IndicatorErrorCode, normalise

from .conftest import assert_refused


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("203.0.113.7", "203.0.113.7/32"),
        ("203.0.113.7/32", "203.0.113.7/32"),
        (" 203.0.113.7 ", "203.0.113.7/32"),
        ("２０３.０.１１３.７", "203.0.113.7/32"),
        ("203.0.113.0/24", "203.0.113.0/24"),
        ("2001:DB8::1", "2001:db8::1/128"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1/128"),
        ("[2001:db8::1]", "2001:db8::1/128"),
        ("2001:db8::/32", "2001:db8::/32"),
        ("::ffff:203.0.113.7", "203.0.113.7/32"),
        ("::ffff:cb00:7107", "203.0.113.7/32"),
    ],
)
def test_addresses_and_networks_in_network_form(value: str, expected: str) -> None:
    assert normalise("ip", value).value == expected


def test_version_is_a_detail() -> None:
    assert normalise("ip", "2001:db8::1").detail("version") == 6


@pytest.mark.parametrize(
    ("value", "code", "says"),
    [
        ("192.0.2.5/24", IndicatorErrorCode.HOST_BITS_SET, "did you mean 192.0.2.0/24?"),
        ("10.0.0.0/8", IndicatorErrorCode.NETWORK_TOO_BROAD, "/16"),
        ("0.0.0.0/0", IndicatorErrorCode.NETWORK_TOO_BROAD, "too broad"),
        ("2001::/16", IndicatorErrorCode.NETWORK_TOO_BROAD, "/32"),
        ("256.1.1.1", IndicatorErrorCode.INVALID_IP, "not an IP"),
        ("010.1.1.1", IndicatorErrorCode.INVALID_IP, "not an IP"),
        ("0x7f.1", IndicatorErrorCode.INVALID_IP, "not an IP"),
        ("example.com", IndicatorErrorCode.INVALID_IP, "not an IP"),
        ("fe80::1%eth0", IndicatorErrorCode.INVALID_IP, "zone"),
        ("1.2.3.4/33", IndicatorErrorCode.INVALID_IP, "not an IP"),
    ],
)
def test_invalid_addresses_are_refused_saying_why(
    value: str, code: IndicatorErrorCode, says: str
) -> None:
    assert_refused(lambda: normalise("ip", value), code, says=says)
