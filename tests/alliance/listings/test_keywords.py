"""The keyword matcher: the indicators' folding, word boundaries, and freshness."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.listings.keywords import KeywordMatcher


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
    matcher.compact()
    assert "pretensioner" in keys(matcher, "seat belt pretensioner")
    assert keys(matcher, "airbag") == set()
    assert len(matcher) == 3


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
    overflow=st.integers(0, 3),
)
def test_agrees_with_a_word_by_word_comparison(
    patterns: list[list[str]], text: list[str], overflow: int
) -> None:
    m = KeywordMatcher(overflow_limit=overflow)
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
