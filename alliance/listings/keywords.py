"""Every keyword and brand misspelling that occurs in a listing's text, in one pass.

Patterns and text are folded the same way as keyword indicators (NFKC, case folded, the
confusable skeleton and leetspeak: ``alliance.indicators.keyword.leet_key``), so "A1RBAG",
"aіrbag" with a Cyrillic і and "airbag" are one pattern. The folded patterns go into an
Aho–Corasick automaton (``pyahocorasick``, C), and a match counts only when it starts and
ends on word boundaries of the text: "nike" is found in "NIKE air max" but not in "manikin".

Patterns added after the build go into a small second automaton rebuilt on each change
(cheap while it is small); removals are tombstones. ``compact()`` rebuilds the main
automaton with both folded in, once the overflow passes ``overflow_limit``.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import ahocorasick

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
# part of a search, so each distinct word is folded once per process.
@functools.lru_cache(maxsize=1 << 18)
def _fold_token(raw: str) -> tuple[str, ...]:
    return tuple(fold_pattern(word) for word in _words(raw))


@dataclass(frozen=True, slots=True)
class FoldedText:
    """A text folded once, to be searched by several matchers."""

    haystack: str
    starts: dict[int, int]  # character offset -> word number
    ends: dict[int, int]
    originals: tuple[str, ...] = ()  # each word as the text wrote it

    @classmethod
    def of(cls, text: str) -> FoldedText:
        folded_words: list[str] = []
        originals: list[str] = []
        for raw in text.split():
            for folded in _fold_token(raw):
                folded_words.append(folded)
                originals.append(raw.strip(_EDGE_PUNCTUATION))
        starts: dict[int, int] = {}
        ends: dict[int, int] = {}
        offset = 0
        for n, word in enumerate(folded_words):
            starts[offset] = n
            ends[offset + len(word) - 1] = n
            offset += len(word) + 1
        return cls(" ".join(folded_words), starts, ends, tuple(originals))

    def original(self, start: int, end: int) -> str:
        """Words ``start`` to ``end`` (a hit's offsets) as the text wrote them."""
        return " ".join(self.originals[start:end])


@dataclass(frozen=True, slots=True)
class KeywordHit:
    key: Hashable
    pattern: str
    start: int  # word offsets in the listing's text
    end: int


class _Automaton:
    def __init__(self, patterns: dict[str, set[Hashable]]) -> None:
        self.automaton = ahocorasick.Automaton()
        for folded, keys in patterns.items():
            self.automaton.add_word(folded, (folded, keys))
        self.empty = not patterns
        if not self.empty:
            self.automaton.make_automaton()


class KeywordMatcher:
    """Keys (an indicator or a rule term) under folded patterns, found in text by word."""

    def __init__(self, *, overflow_limit: int = 2000) -> None:
        self.overflow_limit = overflow_limit
        self._main_patterns: dict[str, set[Hashable]] = {}
        self._overflow_patterns: dict[str, set[Hashable]] = {}
        self._pattern_of: dict[Hashable, str] = {}
        self._main = _Automaton({})
        self._overflow = _Automaton({})

    def __len__(self) -> int:
        return len(self._pattern_of)

    def build(self, items: Iterable[tuple[Hashable, str]]) -> None:
        patterns: dict[str, set[Hashable]] = {}
        self._pattern_of = {}
        for key, text in items:
            folded = fold_pattern(text)
            if not folded.strip():
                continue
            old = self._pattern_of.get(key)
            if old is not None:
                patterns[old].discard(key)
            patterns.setdefault(folded, set()).add(key)
            self._pattern_of[key] = folded
        self._main_patterns = {p: keys for p, keys in patterns.items() if keys}
        self._overflow_patterns = {}
        self._main = _Automaton(self._main_patterns)
        self._overflow = _Automaton({})

    def add(self, key: Hashable, text: str) -> None:
        folded = fold_pattern(text)
        self.remove(key)
        if not folded.strip():
            return
        self._pattern_of[key] = folded
        self._overflow_patterns.setdefault(folded, set()).add(key)
        if len(self._overflow_patterns) > self.overflow_limit:
            self.compact()
        else:
            self._overflow = _Automaton(self._overflow_patterns)

    def remove(self, key: Hashable) -> None:
        folded = self._pattern_of.pop(key, None)
        if folded is None:
            return
        # Keys are dropped from their pattern's set in place: the main automaton keeps the
        # pattern until the next compaction but no longer names the key.
        for patterns in (self._main_patterns, self._overflow_patterns):
            keys = patterns.get(folded)
            if keys is not None:
                keys.discard(key)

    def compact(self) -> None:
        self.build((key, pattern) for key, pattern in list(self._pattern_of.items()))

    def search(self, text: str | FoldedText) -> list[KeywordHit]:
        folded = text if isinstance(text, FoldedText) else FoldedText.of(text)
        if not folded.haystack:
            return []
        haystack, starts, ends = folded.haystack, folded.starts, folded.ends
        hits: list[KeywordHit] = []
        seen: set[tuple[Hashable, int]] = set()
        for automaton in (self._main, self._overflow):
            if automaton.empty:
                continue
            for end, (pattern, keys) in automaton.automaton.iter(haystack):
                start = end - len(pattern) + 1
                if start not in starts or end not in ends:
                    continue
                for key in keys:
                    if (key, start) in seen:
                        continue
                    seen.add((key, start))
                    hits.append(KeywordHit(key, pattern, starts[start], ends[end] + 1))
        return hits
