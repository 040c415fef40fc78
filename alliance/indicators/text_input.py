"""Input hygiene shared by every normaliser: text only, bounded, no control characters, no
invisible characters.

Invisible characters (Unicode's Default_Ignorable_Code_Point: zero-width spaces and joiners,
bidirectional marks and overrides, variation selectors, soft hyphens, tag characters…) are
removed rather than refused: they render as nothing, so a value carrying them is the same value
to a person, and sellers insert them precisely to slip past exact matching.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from functools import cache

from homoglyph.data import load_ucd

from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator

_LINE_BREAKS = frozenset("\t\n\r")


@cache
def _ignorable_ranges() -> tuple[tuple[int, ...], tuple[int, ...]]:
    ranges = sorted((int(lo), int(hi)) for lo, hi in load_ucd()["defaultIgnorable"])
    return tuple(lo for lo, _ in ranges), tuple(hi for _, hi in ranges)


def is_default_ignorable(char: str) -> bool:
    starts, ends = _ignorable_ranges()
    i = bisect_right(starts, ord(char)) - 1
    return i >= 0 and ord(char) <= ends[i]


@cache
def _ignorable_pattern() -> re.Pattern[str]:
    # One character class of every range: the regex engine scans in C, which matters when
    # every imported value and every indexed document passes through here.
    starts, ends = _ignorable_ranges()
    ranges = "".join(
        re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
        for lo, hi in zip(starts, ends, strict=True)
    )
    return re.compile(f"[{ranges}]+")


def remove_ignorables(text: str) -> str:
    if text.isascii():
        return text  # no default-ignorable code point is ASCII
    return _ignorable_pattern().sub("", text)


def require_text(value: object, *, field: str, max_length: int) -> str:
    """The value as ``str``, refused if it is not text, too long, or holds control characters."""
    if value is None:
        raise InvalidIndicator(field, IndicatorErrorCode.REQUIRED, "is required")
    if not isinstance(value, str):
        raise InvalidIndicator(field, IndicatorErrorCode.NOT_TEXT, "must be text")
    if len(value) > max_length:
        raise InvalidIndicator(
            field, IndicatorErrorCode.TOO_LONG, f"is longer than {max_length} characters"
        )
    if value.isprintable():
        return value  # printable text holds no control character and no surrogate
    for char in value:
        category = unicodedata.category(char)
        if category == "Cc" and char not in _LINE_BREAKS:
            name = "NUL" if char == "\x00" else f"U+{ord(char):04X}"
            raise InvalidIndicator(
                field,
                IndicatorErrorCode.INVALID_CHARACTER,
                f"contains a control character ({name})",
            )
        if category == "Cs":
            raise InvalidIndicator(
                field,
                IndicatorErrorCode.INVALID_CHARACTER,
                "contains an unpaired surrogate, which is not valid Unicode text",
            )
    return value


def clean_text(value: object, *, field: str = "value", max_length: int, nfkc: bool = True) -> str:
    """Text with invisible characters removed, every kind of space made one plain space,
    runs of spaces collapsed and the ends trimmed; NFKC-normalised unless told otherwise
    (which folds fullwidth and other compatibility forms onto their plain letters)."""
    text = require_text(value, field=field, max_length=max_length)
    if nfkc:
        text = unicodedata.normalize("NFKC", text)
    text = " ".join(remove_ignorables(text).split())
    if not text:
        raise InvalidIndicator(field, IndicatorErrorCode.EMPTY, "is empty")
    return text


def optional_text(value: object, *, field: str, max_length: int) -> str | None:
    """A field that may be absent: ``None`` and blank text both mean absent."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", require_text(value, field=field, max_length=max_length))
    text = " ".join(remove_ignorables(text).split())
    return text or None
