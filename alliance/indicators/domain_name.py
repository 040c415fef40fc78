"""Host names in one form: IDNA A-labels (punycode), lowercase, no trailing dot.

UTS #46 mapping comes first, as browsers do it: it lowercases, folds fullwidth letters and
ideographic full stops, and drops soft hyphens and zero-width spaces. Each non-ASCII label is
then checked against IDNA 2008 and encoded; each ``xn--`` label is decoded and re-encoded, so a
punycode host and its Unicode spelling meet. ASCII labels may hold underscores (they occur in
real DNS names), but not a leading or trailing hyphen.
"""

from __future__ import annotations

import re

import idna

from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator

MAX_HOST_LENGTH = 253
_ASCII_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


def _refuse(field: str, why: str) -> InvalidIndicator:
    return InvalidIndicator(field, IndicatorErrorCode.INVALID_DOMAIN, why)


def _shown(label: str) -> str:
    return label if len(label) <= 40 else label[:37] + "…"


def _a_label(label: str, field: str) -> str:
    if label.isascii():
        if label.startswith("xn--"):
            try:
                encoded = idna.alabel(idna.ulabel(label)).decode("ascii")
            except (idna.IDNAError, UnicodeError):
                raise _refuse(field, f"holds an invalid punycode label {_shown(label)!r}") from None
            if encoded != label:
                raise _refuse(
                    field, f"holds a punycode label {_shown(label)!r} not in its canonical form"
                )
            return encoded
        if len(label) > 63:
            raise _refuse(field, "has a label longer than 63 characters")
        if not _ASCII_LABEL.fullmatch(label):
            raise _refuse(
                field,
                f"label {_shown(label)!r} may hold only letters, digits, hyphens and underscores, "
                "and may not start or end with a hyphen",
            )
        return label
    try:
        return idna.alabel(label).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise _refuse(
            field, f"label {_shown(label)!r} is not a valid internationalised domain label ({exc})"
        ) from None


def normalise_host(text: str, *, field: str = "value") -> str:
    """The A-label form of a domain name with at least two labels, refused with a reason."""
    try:
        mapped = idna.uts46_remap(text, std3_rules=False, transitional=False)
    except (idna.IDNAError, UnicodeError) as exc:
        raise _refuse(field, f"is not a valid domain name ({exc})") from None
    if mapped.endswith("."):
        mapped = mapped[:-1]
    if not mapped:
        raise InvalidIndicator(field, IndicatorErrorCode.EMPTY, "has no domain name")
    labels = mapped.split(".")
    if any(not label for label in labels):
        raise _refuse(field, "has an empty label (two dots in a row, or a leading dot)")
    if len(labels) < 2:
        raise InvalidIndicator(
            field,
            IndicatorErrorCode.NOT_A_DOMAIN,
            "is a single name, not a full domain name such as example.com",
        )
    if labels[-1].isdigit():
        raise InvalidIndicator(
            field,
            IndicatorErrorCode.NOT_A_DOMAIN,
            "ends in a number, so it is not a domain name (an IP address is the ip type)",
        )
    host = ".".join(_a_label(label, field) for label in labels)
    if len(host) > MAX_HOST_LENGTH:
        raise InvalidIndicator(
            field,
            IndicatorErrorCode.TOO_LONG,
            f"is longer than {MAX_HOST_LENGTH} characters as a domain name",
        )
    return host


def unicode_host(ascii_host: str) -> str:
    """The host as people read it (U-labels), for display only."""
    if ascii_host.isascii() and "xn--" not in ascii_host and ascii_host == ascii_host.lower():
        # No A-label to decode: IDNA would give the host back as it is (or refuse it, which
        # gives it back too).
        return ascii_host
    try:
        return idna.decode(ascii_host)
    except (idna.IDNAError, UnicodeError):
        return ascii_host
