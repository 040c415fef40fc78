"""Perceptual image hashes in lowercase hex: pHash (64 bits) and PDQ (256 bits + quality).

A hash written as a ``0x`` number may have lost its leading zeros and is padded back; bare hex
must have every digit. PDQ's own output line ``hash,quality`` is read as such. A PDQ quality
below 50 is refused: PDQ's authors advise that such hashes (flat or tiny images) match too
much to be used.
"""

from __future__ import annotations

import re

from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.normalised import Normalised
from alliance.indicators.text_input import clean_text

PDQ_MIN_QUALITY = 50
_HEX = re.compile(r"[0-9a-f]+")


def _hex_digits(text: str, bits: int, name: str) -> str:
    digits = bits // 4
    text = re.sub(r"[\s:_-]", "", text.lower())
    padded = text.startswith("0x")
    text = text.removeprefix("0x")
    if padded and 0 < len(text) < digits:
        text = text.rjust(digits, "0")
    if not _HEX.fullmatch(text) or len(text) != digits:
        raise InvalidIndicator(
            "value",
            IndicatorErrorCode.INVALID_HASH,
            f"a {name} hash is {bits} bits written as {digits} hex digits",
        )
    return text


def normalise_phash(value: object) -> Normalised:
    text = clean_text(value, max_length=256)
    return Normalised(IndicatorType.IMAGE_PHASH, _hex_digits(text, 64, "pHash"))


def _quality(value: object) -> int:
    if isinstance(value, bool):
        value = None  # True is not a quality
    elif isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,3}\s*", value):
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= 100:
        raise InvalidIndicator(
            "quality", IndicatorErrorCode.INVALID_QUALITY, "must be a whole number from 0 to 100"
        )
    if value < PDQ_MIN_QUALITY:
        raise InvalidIndicator(
            "quality",
            IndicatorErrorCode.QUALITY_TOO_LOW,
            f"is {value}; PDQ hashes of quality below {PDQ_MIN_QUALITY} match too many images "
            "to be used",
        )
    return value


def normalise_pdq(value: object, *, quality: object = None) -> Normalised:
    text = clean_text(value, max_length=512)
    if "," in text:
        text, _, written = text.partition(",")
        if quality is not None and _quality(quality) != _quality(written):
            raise InvalidIndicator(
                "quality",
                IndicatorErrorCode.INVALID_QUALITY,
                "differs from the quality written after the hash",
            )
        quality = written
    if quality is None:
        raise InvalidIndicator(
            "quality", IndicatorErrorCode.REQUIRED, "is needed: PDQ gives each hash a quality"
        )
    level = _quality(quality)
    return Normalised(
        IndicatorType.IMAGE_PDQ, _hex_digits(text, 256, "PDQ"), (), (("quality", level),)
    )
