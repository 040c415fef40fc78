"""Listing keywords and brand misspellings.

The value is NFKC with case folded (and invisible characters removed, spaces collapsed), so
"ＮＩＫＥ" and "nike" are one keyword. Two looser keys go with it:

- ``skeleton``: the UTS #39 confusable skeleton, where "Nіke" with a Cyrillic і meets "nike";
- ``leet``: leetspeak folded before and after a skeleton taken in upper and in lower case,
  where "N1KE", "N!KE", "Nіke" and all-Greek "ΝΙΚΕ" meet "nike" (see ``leetspeak`` for what
  folds). Words without a letter (model numbers, sizes) are left as they are.

The skeleton key follows UTS #39 on the case-folded value, so a look-alike only in upper case
(Greek capital Ν for N) is lost to it once folded (ν looks like v): the leet key catches it.
"""

from __future__ import annotations

import unicodedata

from alliance.indicators.confusable_skeleton import skeleton
from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.leetspeak import fold_leetspeak
from alliance.indicators.normalised import Normalised
from alliance.indicators.text_input import clean_text, remove_ignorables

MAX_KEYWORD_LENGTH = 256


def _fold_once(text: str) -> str:
    return " ".join(remove_ignorables(unicodedata.normalize("NFKC", text.casefold())).split())


def fold_case(text: str) -> str:
    """NFKC with case folded, to its fixed point (casefolding can undo NFKC and back)."""
    if text.isascii():
        # ASCII is its own NFKC, casefolds as it lowers and holds no ignorable: one step.
        return " ".join(text.lower().split())
    return unicode_fold_case(text)


def unicode_fold_case(text: str) -> str:
    """:func:`fold_case` step by step, for any text."""
    for _ in range(4):
        folded = _fold_once(text)
        if folded == text:
            break
        text = folded
    return text


def _loose_word(word: str) -> str:
    if not any(c.isalpha() for c in word):
        return word
    # The skeleton of the upper-case word first, so capitals of other scripts that look like
    # Latin capitals (Greek "ΝΙΚΕ") meet them; then of the lower-case one, so that lower-case
    # look-alikes ("rn" for "m") meet too.
    upper = skeleton(fold_leetspeak(word).upper())
    return fold_leetspeak(fold_case(skeleton(fold_case(upper))))


def leet_key(text: str) -> str:
    """The loose key: leetspeak folded, case-blind confusable skeleton, words without letters
    (numbers) left as they are."""
    return " ".join(_loose_word(word) for word in text.split(" "))


def normalise_keyword(value: object, indicator_type: IndicatorType) -> Normalised:
    text = fold_case(clean_text(value, max_length=MAX_KEYWORD_LENGTH))
    if not text:
        raise InvalidIndicator("value", IndicatorErrorCode.EMPTY, "is empty")
    keys = (("skeleton", skeleton(text)), ("leet", leet_key(text)))
    return Normalised(indicator_type, text, keys)
