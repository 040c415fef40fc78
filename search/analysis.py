"""Text analysis shared by the backends: pure functions over strings.

Both engines analyse English the same way (lowercase, ASCII folding, Porter2 stemming).
What neither does by itself is done here, once, for both:

- **confusables**: a second key per word, the UTS #39 skeleton of the case-folded word
  (the one the indicators' keyword normaliser uses), so "Nіke" with a Cyrillic і finds "Nike";
- **Chinese, Japanese, Korean**: runs of Han, kana and Hangul become overlapping bigrams,
  as Elasticsearch's ``cjk_bigram`` filter makes them, so "安全气囊" (安全 全气 气囊) is a
  phrase inside "假冒汽车安全气囊";
- **query parsing**: quoted phrases and words, and each word's fuzziness.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from alliance.indicators.confusable_skeleton import skeleton
from alliance.indicators.keyword import fold_case

_CJK_RANGES = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # Han extension A
    (0x4E00, 0x9FFF),  # Han
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # Han compatibility
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x2FA1F),  # Han extensions B-F, compatibility supplement
)
_CJK_CLASS = "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in _CJK_RANGES)
CJK_RUN = re.compile(f"[{_CJK_CLASS}]+")
WORD = re.compile(r"\w+")
_QUOTED = re.compile(r'"([^"]*)"?')


def has_cjk(text: str) -> bool:
    return not text.isascii() and CJK_RUN.search(text) is not None


def cjk_bigrams(text: str) -> list[str]:
    """Overlapping bigrams of every CJK run (a run of one character is kept whole)."""
    grams: list[str] = []
    for run in CJK_RUN.findall(unicodedata.normalize("NFKC", text)):
        grams.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
    return grams


@cache
def _ascii_skeleton_table() -> dict[int, str]:
    return {c: skeleton(chr(c)) for c in range(128)}


@cache
def _ascii_replacements() -> tuple[tuple[str, str], ...]:
    """The few ASCII characters whose skeleton differs from the lowercased character (``m``
    is ``rn``, ``1`` and ``|`` are ``l``, …). No replacement holds another such character, so
    replacing them one after another is the table's translation; a handful of ``str.replace``
    calls cost less than ``str.translate`` through a dict, character by character."""
    table = _ascii_skeleton_table()
    pairs = tuple(
        (chr(c), out) for c, out in table.items() if out != chr(c) and chr(c) == chr(c).lower()
    )
    keys = {c for c, _ in pairs}
    assert not any(keys & set(out) for _, out in pairs), "replacements must not chain"
    return pairs


@lru_cache(maxsize=65536)
def _prototype(char: str) -> str:
    # One character of UTS #39's skeleton (what ``skeleton`` does per character), cached.
    return skeleton(char) if unicodedata.normalize("NFD", char) == char else char


def skeleton_text(text: str) -> str:
    """The confusable skeleton of the case-folded text: ``skeleton(fold_case(text))``, with
    ASCII by a few replacements (the common case) and other characters through a cache."""
    if text.isascii():
        text = text.lower()
        for char, out in _ascii_replacements():
            if char in text:
                text = text.replace(char, out)
        return text
    decomposed = unicodedata.normalize("NFD", fold_case(text))
    return unicodedata.normalize("NFD", "".join(map(_prototype, decomposed)))


@cache
def _words_analyzer():  # type: ignore[no-untyped-def]
    from tantivy import Filter, TextAnalyzerBuilder, Tokenizer

    return (
        TextAnalyzerBuilder(Tokenizer.simple())
        .filter(Filter.remove_long(64))
        .filter(Filter.lowercase())
        .filter(Filter.ascii_fold())
        .build()
    )


def plain_words(text: str) -> list[str]:
    """Lowercased, ASCII-folded words (unstemmed): what suggestions complete and typos are
    measured against. Elasticsearch gets them as a keyword list made with this function."""
    return _words_analyzer().analyze(text)


def fuzziness(term: str) -> int:
    """Edit distance allowed for a term, as Elasticsearch's ``AUTO``: 0 up to 2 characters,
    1 up to 5, 2 beyond."""
    n = len(term)
    return 0 if n <= 2 else 1 if n <= 5 else 2


@lru_cache(maxsize=65_536)
def within_distance(a: str, b: str, limit: int) -> bool:
    """Damerau-Levenshtein (adjacent transpositions) distance of ``a`` and ``b`` ≤ ``limit``.
    Memoised: highlighting asks it of the same few query terms and document words."""
    if abs(len(a) - len(b)) > limit:
        return False
    if a == b:
        return True
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return False
        prev2, prev = prev, cur
    return prev[-1] <= limit


@dataclass(frozen=True, slots=True)
class QueryUnit:
    """One thing every hit must contain: a word (fuzzy) or a quoted phrase (exact order)."""

    text: str
    phrase: bool


def parse_query(text: str) -> list[QueryUnit]:
    """Quoted phrases and bare words, in order; an unclosed quote runs to the end."""
    units: list[QueryUnit] = []
    position = 0
    for match in _QUOTED.finditer(text):
        units.extend(QueryUnit(w, False) for w in text[position : match.start()].split())
        if match.group(1).strip():
            units.append(QueryUnit(match.group(1).strip(), True))
        position = match.end()
    units.extend(QueryUnit(w, False) for w in text[position:].split())
    return units


def highlight(text: str, spans: list[tuple[int, int]], width: int = 160) -> str | None:
    """``text`` around its first matched span, each span wrapped in ``<em>``; None if none."""
    if not spans:
        return None
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    begin = 0 if len(text) <= width else max(0, merged[0][0] - width // 4)
    stop = min(len(text), begin + width)
    out, cursor = [], begin
    for start, end in merged:
        if start >= stop:
            break
        if end <= begin:
            continue
        out.append(text[cursor:start])
        out.append(f"<em>{text[start : min(end, stop)]}</em>")
        cursor = min(end, stop)
    out.append(text[cursor:stop])
    fragment = "".join(out)
    return ("…" if begin else "") + fragment + ("…" if stop < len(text) else "")
