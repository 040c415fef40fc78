"""Leetspeak folding: digits and symbols written for the letters they resemble.

"N1KE", "N!KE", "4DID4S" and "@didas" are written to be read as brand names while missing an
exact match. The UTS #39 skeleton only partly covers this (it maps 1 to l and 0 to O, and no
other digit), so keywords also carry a key in which these substitutions are folded.

"1" stands for both "i" and "l", so "i", "l", "1", "!" and "|" all fold to "i": the key is for
matching, not reading ("louis" folds to "iouis", and so does "1ouis"). Only words that contain a
letter are folded, so a model number written in digits alone ("2024", "501") stays as it is.
"""

from __future__ import annotations

LEET_FOLDS = {
    "0": "o",
    "1": "i",
    "!": "i",
    "|": "i",
    "l": "i",
    "3": "e",
    "€": "e",
    "4": "a",
    "@": "a",
    "5": "s",
    "$": "s",
    "7": "t",
}
_TABLE = str.maketrans(LEET_FOLDS)


def fold_word(word: str) -> str:
    if not any(c.isalpha() for c in word):
        return word
    return word.translate(_TABLE)


def fold_leetspeak(text: str) -> str:
    return " ".join(fold_word(word) for word in text.split(" "))
