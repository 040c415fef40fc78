"""Every keyword and brand misspelling that occurs in a listing's text, in one pass.

Patterns and text are folded the same way as keyword indicators (NFKC, case folded, the
confusable skeleton and leetspeak: ``alliance.indicators.keyword.leet_key``), so "A1RBAG",
"aіrbag" with a Cyrillic і and "airbag" are one pattern. A match counts only when it starts
and ends on word boundaries of the folded text: "nike" is found in "NIKE air max" but not in
"manikin".

Since only whole words match, a pattern is found exactly where its words are consecutive
words of the folded text. So patterns sit in a hash map, and under each first word the word
counts of the patterns that start with it: a search looks up each word of the text, and
from a word that starts a longer pattern, the few runs of words that could be one. That is
a dictionary probe per word rather than a scan per character, and an addition or a removal
is a dictionary update that takes effect at once, with nothing to rebuild. (A text whose
folding leaves a space inside a word, as a few compatibility characters do, is searched by
its word boundaries instead: every run between a word start and a word end short enough to
be a pattern.)
"""

from __future__ import annotations

import bisect
import functools
import itertools
import string
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from alliance.indicators.keyword import fold_case, leet_key

# Punctuation that ends or opens a word rather than standing for a letter ("airbag!" is
# "airbag", while "n!ke" inside a word is leetspeak for "nike").
_EDGE_PUNCTUATION = "!.,;:?\"'()[]{}<>«»“”‘’…/\\*#"


def fold_pattern(text: str) -> str:
    return leet_key(fold_case(text))


def _words(text: str) -> list[str]:
    words = []
    for raw in fold_case(text).split(" "):
        word = raw.strip(_EDGE_PUNCTUATION)
        if word:
            words.append(word)
    return words


# Listings repeat their words (brands, product names, boilerplate): folding is the costly
# part of a search, so each distinct word is folded once per process, the 262,144 most
# recently seen kept (some tens of megabytes at most).
@functools.lru_cache(maxsize=1 << 18)
def _fold_token(raw: str) -> tuple[str, ...]:
    if raw.isascii():
        table, slow = _ascii_folds()
        word = raw.lower().strip(_EDGE_PUNCTUATION)
        if not word:
            return ()
        if word.upper() == word.lower():  # no letter: numbers and sizes stay as they are
            return (word,)
        if not slow.intersection(word):
            return (word.translate(table),)
    return tuple(fold_pattern(word) for word in _words(raw))


@functools.cache
def _ascii_folds() -> tuple[dict[int, str], frozenset[str]]:
    """Folding a word of ASCII characters holding a letter, one character at a time.

    For such a word every step of :func:`fold_pattern` (lower and upper case, the ASCII
    confusable prototypes, leetspeak) maps each character on its own, so the whole is one
    table, read off the folding itself: what a character adds after a letter. A character
    whose fold is not that simple (none today) is left to the full folding, as are words
    without a letter, which leetspeak leaves as they are."""
    lead = fold_pattern("a")
    table: dict[int, str] = {}
    slow = set()
    for code in range(128):
        char = chr(code)
        if char.split() != [char]:
            continue  # whitespace: never inside a word
        folded = fold_pattern("a" + char)
        tail = folded[len(lead) :]
        if folded.startswith(lead) and tail and tail.isascii() and tail.split() == [tail]:
            table[code] = tail
        else:
            slow.add(char)
    return table, frozenset(slow)


@functools.cache
def _ascii_letter_folds() -> tuple[dict[int, int], tuple[tuple[str, str], ...]] | None:
    """Folding every ASCII word made of letters only, a whole text at a time: each letter's
    fold from :func:`_ascii_folds` as a one-character table (``str.translate``'s fast path),
    then the letters whose fold is longer ("m" is "rn") replaced after. None when the
    letters' folds cannot be so split: a letter left to the full folding, a one-character
    fold that is itself a longer-folding letter, or a longer fold holding one."""
    table, slow = _ascii_folds()
    letters = string.ascii_lowercase
    if slow.intersection(letters):
        return None
    single: dict[int, int] = {}
    longer: list[tuple[str, str]] = []
    for letter in letters:
        tail = table[ord(letter)]
        if len(tail) == 1:
            single[ord(letter)] = ord(tail)
        else:
            longer.append((letter, tail))
    replaced = {letter for letter, _ in longer}
    if replaced.intersection(map(chr, single.values())) or any(
        replaced.intersection(tail) for _, tail in longer
    ):
        return None
    return single, tuple(longer)


def _fold_text(text: str) -> list[str]:
    """A text's folded words: :func:`_fold_token` of each word, in order.

    An ASCII text is folded whole, in a few passes in C, rather than word by word; then only
    its words holding something other than letters (digits, punctuation: leetspeak, or
    numbers that stay as they are) are folded one at a time."""
    plan = _ascii_letter_folds() if text.isascii() else None
    if plan is None:
        return list(itertools.chain.from_iterable(map(_fold_token, text.split())))
    table, longer = plan
    folded = text.lower().translate(table)
    for letter, tail in longer:
        folded = folded.replace(letter, tail)
    words = folded.split()  # word for word the text's: no white space is made or taken
    if text.replace(" ", "").isalpha():  # letters and spaces only, the common case
        return words
    tokens = text.split()
    plain = list(map(str.isalpha, tokens))
    if all(plain):
        return words
    mixed: list[str] = []
    for token, word, letters_only in zip(tokens, words, plain, strict=True):
        if letters_only:
            mixed.append(word)
        else:
            mixed += _fold_token(token)
    return mixed


class FoldedText:
    """A text folded once, to be searched by several matchers.

    ``words`` are the folded words, ``haystack`` the same joined by single spaces. When a
    folded word is empty or holds a space (contrived text only), ``boundaries`` tables the
    haystack offsets where words start and end (offset -> word number); otherwise it is None.
    The words as written are worked out only when a hit asks for them.
    """

    __slots__ = ("_originals", "_texts", "boundaries", "first_words", "haystack", "words")

    def __init__(self, texts: tuple[str, ...], folded_words: list[str], first_words: int) -> None:
        self.words = folded_words
        self.haystack = " ".join(folded_words)
        # Folded words that come from the first part (a listing's title).
        self.first_words = first_words
        self._texts = texts  # the texts as written, split into words when a hit asks
        self._originals: tuple[str, ...] | None = None
        self.boundaries: tuple[dict[int, int], dict[int, int]] | None = None
        if "" in folded_words or self.haystack.count(" ") != len(folded_words) - 1:
            starts: dict[int, int] = {}
            ends: dict[int, int] = {}
            offset = 0
            for n, word in enumerate(folded_words):
                starts[offset] = n
                ends[offset + len(word) - 1] = n
                offset += len(word) + 1
            self.boundaries = starts, ends

    @classmethod
    def of(cls, text: str, then: str = "") -> FoldedText:
        """``text`` folded; with ``then``, the two as one text (a title, then a description),
        ``first_words`` saying where the first ends."""
        folded = _fold_text(text)
        first_words = len(folded)
        if then:
            folded += _fold_text(then)
        return cls((text, then), folded, first_words)

    @property
    def originals(self) -> tuple[str, ...]:
        """Each folded word's word as the text wrote it."""
        if self._originals is None:
            self._originals = tuple(
                raw.strip(_EDGE_PUNCTUATION)
                for text in self._texts
                for raw in text.split()
                for _ in range(len(_fold_token(raw)))
            )
        return self._originals

    def original(self, start: int, end: int) -> str:
        """Words ``start`` to ``end`` (a hit's offsets) as the text wrote them."""
        return " ".join(self.originals[start:end])


@dataclass(frozen=True, slots=True)
class KeywordHit:
    key: Hashable
    pattern: str
    start: int  # word offsets in the listing's text
    end: int


class KeywordMatcher:
    """Keys (an indicator or a rule term) under folded patterns, found in text by word."""

    def __init__(self) -> None:
        self._patterns: dict[str, set[Hashable]] = {}
        self._pattern_of: dict[Hashable, str] = {}
        # first word -> {word count: how many patterns of that many words start with it}
        self._lengths: dict[str, dict[int, int]] = {}
        # An upper bound of the patterns' lengths in characters.
        self._longest = 0

    def __len__(self) -> int:
        return len(self._pattern_of)

    def build(self, items: Iterable[tuple[Hashable, str]]) -> None:
        """Replace the contents with ``items`` (key, text): the last text for a key wins."""
        self._patterns = {}
        self._pattern_of = {}
        self._lengths = {}
        self._longest = 0
        for key, text in items:
            self.add(key, text)

    def add(self, key: Hashable, text: str) -> None:
        folded = fold_pattern(text)
        self.remove(key)
        if not folded.strip():
            return
        self._pattern_of[key] = folded
        keys = self._patterns.get(folded)
        if keys is None:
            keys = self._patterns[folded] = set()
            words = folded.split(" ")
            counts = self._lengths.setdefault(words[0], {})
            counts[len(words)] = counts.get(len(words), 0) + 1
            self._longest = max(self._longest, len(folded))
        keys.add(key)

    def remove(self, key: Hashable) -> None:
        folded = self._pattern_of.pop(key, None)
        if folded is None:
            return
        keys = self._patterns[folded]
        keys.discard(key)
        if keys:
            return
        del self._patterns[folded]
        words = folded.split(" ")
        counts = self._lengths[words[0]]
        counts[len(words)] -= 1
        if not counts[len(words)]:
            del counts[len(words)]
            if not counts:
                del self._lengths[words[0]]

    def search(self, text: str | FoldedText) -> list[KeywordHit]:
        return [
            KeywordHit(key, pattern, start, end)
            for pattern, keys, start, end in self.search_patterns(text)
            for key in keys
        ]

    def search_patterns(self, text: str | FoldedText) -> list[tuple[str, set[Hashable], int, int]]:
        """Each pattern found on word boundaries, with its keys and word offsets (start, one
        past the end), in the order of the text. Each (pattern, place) comes once. The key
        sets are the matcher's own: read them, do not keep or change them."""
        folded = text if isinstance(text, FoldedText) else FoldedText.of(text)
        if not self._patterns or not folded.haystack:
            return []
        if folded.boundaries is not None:
            return self._search_boundaries(folded)
        words = folded.words
        patterns, lengths = self._patterns, self._lengths
        # The text's words that start a pattern, in one pass in C: most texts have few or
        # none, and only their places are looked at.
        starters = lengths.keys() & words
        if not starters:
            return []
        found: list[tuple[str, set[Hashable], int, int]] = []
        for start, word in enumerate(words):
            if word not in starters:
                continue
            counts = lengths[word]
            for n in sorted(counts) if len(counts) > 1 else counts:
                if n == 1:
                    pattern = word
                elif start + n <= len(words):
                    pattern = " ".join(words[start : start + n])
                else:
                    continue
                keys = patterns.get(pattern)
                if keys:
                    found.append((pattern, keys, start, start + n))
        return found

    def _search_boundaries(self, folded: FoldedText) -> list[tuple[str, set[Hashable], int, int]]:
        assert folded.boundaries is not None
        starts, ends = folded.boundaries
        end_offsets = sorted(ends)
        haystack = folded.haystack
        found: list[tuple[str, set[Hashable], int, int]] = []
        for offset, number in sorted(starts.items()):
            i = bisect.bisect_left(end_offsets, offset)
            while i < len(end_offsets) and end_offsets[i] < offset + self._longest:
                end = end_offsets[i]
                keys = self._patterns.get(haystack[offset : end + 1])
                if keys:
                    found.append((haystack[offset : end + 1], keys, number, ends[end] + 1))
                i += 1
        return found
