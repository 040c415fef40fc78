"""E-mail addresses: lowercase, the domain in IDNA A-labels.

``Name <addr>`` and ``mailto:`` forms give their address. A sub-address (``shop+fake@x.com``)
is kept in the value and also matched without its tag, since ``shop@x.com`` is the same mailbox.
Quoted local parts (``"a b"@x.com``) are refused: mailbox providers do not hand them out.
"""

from __future__ import annotations

import re
import unicodedata

from alliance.indicators.domain_name import normalise_host
from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.normalised import Normalised
from alliance.indicators.text_input import clean_text

MAX_EMAIL_INPUT = 512
MAX_LOCAL_PART = 64
_DISPLAY_FORM = re.compile(r"^[^<>]*<([^<>]+)>$")
# RFC 5322 atext, plus any non-ASCII letter (RFC 6531).
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+|[^\x00-\x7f]+")


def _invalid(why: str) -> InvalidIndicator:
    return InvalidIndicator("value", IndicatorErrorCode.INVALID_EMAIL, why)


def _check_local_part(local: str) -> None:
    if not local:
        raise _invalid("has nothing before the @")
    if len(local) > MAX_LOCAL_PART:
        raise _invalid(f"has more than {MAX_LOCAL_PART} characters before the @")
    for atom in local.split("."):
        if not atom:
            raise _invalid(
                "has a dot at the start or end of the part before the @, or two in a row"
            )
        if not all(_ATOM.fullmatch(c) for c in atom):
            raise _invalid("has a character that is not allowed before the @")


def normalise_email(value: object) -> Normalised:
    text = clean_text(value, max_length=MAX_EMAIL_INPUT)
    display = _DISPLAY_FORM.match(text)
    if display:
        text = display.group(1).strip()
    if text[:7].lower() == "mailto:":
        text = text[7:].partition("?")[0]
    local, at, domain = text.rpartition("@")
    if not at:
        raise _invalid("has no @")
    if local.startswith('"'):
        raise _invalid("has a quoted local part, which is not accepted")
    if " " in text:
        raise _invalid("has a space in it")
    _check_local_part(local)
    local = unicodedata.normalize("NFC", local.lower())
    try:
        host = normalise_host(domain)
    except InvalidIndicator as exc:
        raise _invalid(f"the domain after the @ {exc.message}") from None
    address = f"{local}@{host}"
    base, plus, tag = local.partition("+")
    keys = (("without_subaddress", f"{base}@{host}" if plus and base else address),)
    details = (("domain", host),) + ((("subaddress", tag),) if plus and base else ())
    return Normalised(IndicatorType.EMAIL, address, keys, details)
