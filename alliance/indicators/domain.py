from __future__ import annotations

from alliance.indicators.domain_name import normalise_host, unicode_host
from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.normalised import Normalised
from alliance.indicators.public_suffix import registrable_domain
from alliance.indicators.text_input import clean_text
from alliance.indicators.web_url import parse_url

MAX_DOMAIN_INPUT = 1024


def normalise_domain(value: object) -> Normalised:
    """A domain name; a pasted URL gives its host, and a leading ``*.`` or ``.`` is dropped
    (both are ways of writing "this domain and everything under it")."""
    text = clean_text(value, max_length=MAX_DOMAIN_INPUT, nfkc=False)
    if any(c in text for c in "/:@?#\\"):
        url = parse_url(text)
        if url.host_is_ip:
            raise InvalidIndicator(
                "value", IndicatorErrorCode.NOT_A_DOMAIN, "is an IP address: use the ip type"
            )
        host = url.host
    else:
        text = text.removeprefix("*.").removeprefix(".")
        host = normalise_host(text)
    keys = ()
    domain = registrable_domain(host)
    if domain:
        keys = (("registrable_domain", domain),)
    return Normalised(IndicatorType.DOMAIN, host, keys, (("unicode", unicode_host(host)),))
