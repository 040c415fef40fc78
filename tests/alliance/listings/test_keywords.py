"""The keyword matcher: the indicators' folding, word boundaries, and freshness."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.listings.keywords import (
    FoldedText,
    KeywordMatcher,
    _ascii_folds,
    _ascii_letter_folds,
    _fold_text,
    _fold_token,
    _words,
    fold_pattern,
)


@pytest.fixture
def matcher() -> KeywordMatcher:
    m = KeywordMatcher()
    m.build([("airbag", "airbag"), ("srs", "SRS module"), ("nike", "Nike")])
    return m


def keys(matcher: KeywordMatcher, text: str) -> set[str]:
    return {str(hit.key) for hit in matcher.search(text)}


@pytest.mark.parametrize(
    "text",
    [
        "Airbag for Golf VI",
        "A1RBAG for Golf VI",
        "AIRBAG!",
        "driver a\u0456rbag (new)",  # Cyrillic і
        "ａｉｒｂａｇ cover",  # full-width
        "air\u200bbag",  # zero-width space inside
    ],
)
def test_look_alike_spellings_match(matcher: KeywordMatcher, text: str) -> None:
    assert "airbag" in keys(matcher, text)


@pytest.mark.parametrize("text", ["airbags", "manikin shoes", "steering wheel", "nikel plated"])
def test_only_whole_words_match(matcher: KeywordMatcher, text: str) -> None:
    assert keys(matcher, text) == set()


def test_multi_word_patterns_and_word_offsets(matcher: KeywordMatcher) -> None:
    hits = matcher.search("Genuine  SRS   module, N1KE box")
    assert {(str(h.key), h.start, h.end) for h in hits} == {("srs", 1, 3), ("nike", 3, 4)}


def test_adds_and_removals_take_effect_at_once(matcher: KeywordMatcher) -> None:
    matcher.add("pretensioner", "seat belt pretensioner")
    assert "pretensioner" in keys(matcher, "Seat Belt Pretensioner left")
    matcher.remove("airbag")
    assert keys(matcher, "airbag") == set()
    assert "pretensioner" in keys(matcher, "seat belt pretensioner")
    assert len(matcher) == 3
    matcher.add("airbag", "air bag")
    assert keys(matcher, "airbag") == set()
    assert "airbag" in keys(matcher, "Air Bag!")


def test_two_keys_on_one_pattern() -> None:
    m = KeywordMatcher()
    m.build([("a", "gucci"), ("b", "GUCCI")])
    assert {h.key for h in m.search("gucci bag")} == {"a", "b"}
    m.remove("a")
    assert {h.key for h in m.search("gucci bag")} == {"b"}


words = st.text(alphabet="abcdefgh", min_size=1, max_size=6)


@settings(max_examples=80, deadline=None)
@given(
    patterns=st.lists(st.lists(words, min_size=1, max_size=2), min_size=1, max_size=8),
    text=st.lists(words, min_size=0, max_size=12),
)
def test_agrees_with_a_word_by_word_comparison(patterns: list[list[str]], text: list[str]) -> None:
    m = KeywordMatcher()
    m.build((n, " ".join(p)) for n, p in enumerate(patterns[: len(patterns) // 2]))
    for n, p in enumerate(patterns):
        if n >= len(patterns) // 2:
            m.add(n, " ".join(p))
    expected = {
        (n, i)
        for n, p in enumerate(patterns)
        for i in range(len(text) - len(p) + 1)
        if text[i : i + len(p)] == p
    }
    assert {(h.key, h.start) for h in m.search(" ".join(text))} == expected


def _brute_force(patterns: dict[str, str], text: str) -> set[tuple[str, int, int]]:
    """Every (key, first word, one past the last) where the key's folded pattern occurs in the
    folded text starting at a word start and ending at a word end, by trying every offset."""
    folded = FoldedText.of(text)
    starts: dict[int, int] = {}
    ends: dict[int, int] = {}
    offset = 0
    for n, word in enumerate(folded.words):
        starts[offset] = n
        ends[offset + len(word) - 1] = n
        offset += len(word) + 1
    found = set()
    for key, raw in patterns.items():
        pattern = fold_pattern(raw)
        if not pattern.strip():
            continue
        at = folded.haystack.find(pattern)
        while at >= 0:
            end = at + len(pattern) - 1
            if at in starts and end in ends:
                found.add((key, starts[at], ends[end] + 1))
            at = folded.haystack.find(pattern, at + 1)
    return found


tricky = st.text(
    alphabet="abcAB01!|@$ аіоΝΙ\u200b\U0001f16d\u2474ﬁ.,",  # ① ﬁ and 🅭 fold to several letters
    min_size=1,
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(
    patterns=st.lists(st.lists(tricky, min_size=1, max_size=3), min_size=1, max_size=6),
    text=st.lists(tricky, min_size=0, max_size=10),
    removed=st.sets(st.integers(0, 5)),
)
def test_agrees_with_every_offset_tried_on_any_text(
    patterns: list[list[str]], text: list[str], removed: set[int]
) -> None:
    m = KeywordMatcher()
    m.build((n, " ".join(p)) for n, p in enumerate(patterns))
    for n in removed:
        m.remove(n)
    kept = {n: " ".join(p) for n, p in enumerate(patterns) if n not in removed}
    sentence = " ".join(text)
    assert {(h.key, h.start, h.end) for h in m.search(sentence)} == _brute_force(kept, sentence)


@settings(max_examples=300, deadline=None)
@given(title=st.text(max_size=30), description=st.text(max_size=30))
def test_a_title_and_a_description_fold_as_one_text(title: str, description: str) -> None:
    both = FoldedText.of(title, description)
    whole = FoldedText.of(f"{title}\n{description}")
    assert (both.haystack, both.originals) == (whole.haystack, whole.originals)
    assert both.first_words == len(FoldedText.of(title).words)


ASCII_WORD_CHARACTERS = [chr(c) for c in range(128) if chr(c).split() == [chr(c)]]


def _folded_in_full(raw: str) -> tuple[str, ...]:
    return tuple(fold_pattern(word) for word in _words(raw))


def test_ascii_words_fold_by_table_exactly_as_in_full() -> None:
    """Every ASCII word of two characters (letters, digits, leetspeak, look-alikes,
    punctuation, controls) folds by the one table as the full folding folds it."""
    assert not _ascii_folds()[1]  # no ASCII character needs the full folding today
    for a in ASCII_WORD_CHARACTERS:
        for b in ASCII_WORD_CHARACTERS:
            assert _fold_token.__wrapped__(a + b) == _folded_in_full(a + b), repr(a + b)


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=st.sampled_from(ASCII_WORD_CHARACTERS), min_size=1, max_size=16))
def test_longer_ascii_words_fold_by_table_exactly_as_in_full(raw: str) -> None:
    assert _fold_token.__wrapped__(raw) == _folded_in_full(raw)


ASCII_CHARACTERS = [chr(c) for c in range(128)]


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from(ASCII_CHARACTERS), max_size=12)
        | st.sampled_from(["Airbag", "MODULE", "m", "Nike", "n1ke", "10", "a1rbag!", "ml"]),
        max_size=12,
    ).map("".join)
)
def test_ascii_texts_fold_whole_exactly_as_word_by_word(text: str) -> None:
    """An ASCII text folded whole (letters by one table, "m" to "rn" after, the other words
    one at a time) gives the words that folding each word in full gives."""
    assert _ascii_letter_folds() is not None  # the whole-text folding is the one in use
    assert _fold_text(text) == [w for token in text.split() for w in _folded_in_full(token)]


def test_letter_words_and_others_mixed_in_one_text() -> None:
    assert _fold_text("MAMMOTH Airbag, size 10 for n1ke!!  m") == [
        "rnarnrnoth",
        "airbag",
        "size",
        "10",
        "for",
        "nike",
        "rn",
    ]
    assert _fold_text("Mammoth\tairbag") == ["rnarnrnoth", "airbag"]
    folded = FoldedText.of("MAMMOTH Airbag,", "size 10")
    assert (folded.first_words, folded.original(1, 3)) == (2, "Airbag size")
