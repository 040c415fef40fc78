"""The pure text analysis both backends share."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from search.analysis import (
    QueryUnit,
    cjk_bigrams,
    fuzziness,
    has_cjk,
    highlight,
    parse_query,
    skeleton_text,
    within_distance,
)


def test_cjk_runs_become_overlapping_bigrams_as_elasticsearch_cjk_bigram_does() -> None:
    assert cjk_bigrams("假冒汽车安全气囊") == [
        "假冒",
        "冒汽",
        "汽车",
        "车安",
        "安全",
        "全气",
        "气囊",
    ]
    assert cjk_bigrams("安全气囊") == ["安全", "全气", "气囊"]
    # Japanese kana and Korean Hangul too; a lone character stays whole; Latin is ignored.
    assert cjk_bigrams("エアバッグ") == ["エア", "アバ", "バッ", "ッグ"]
    assert cjk_bigrams("에어백 abc 日") == ["에어", "어백", "日"]
    assert not has_cjk("airbag café")
    assert has_cjk("airbag 气囊")


def test_the_confusable_skeleton_meets_look_alikes_of_other_scripts() -> None:
    assert skeleton_text("Nіke") == skeleton_text("Nike")  # Cyrillic і
    assert skeleton_text("ΝΙΚΕ".lower()) != ""
    assert skeleton_text("NIKE") == skeleton_text("nike")


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_the_ascii_fast_path_equals_the_full_skeleton(text: str) -> None:
    from alliance.indicators.confusable_skeleton import skeleton
    from alliance.indicators.keyword import fold_case

    assert skeleton_text(text).split() == skeleton(fold_case(text)).split()


def test_queries_split_into_words_and_quoted_phrases() -> None:
    assert parse_query('fake "brake pads" online "unclosed') == [
        QueryUnit("fake", False),
        QueryUnit("brake pads", True),
        QueryUnit("online", False),
        QueryUnit("unclosed", True),
    ]
    assert parse_query('  ""  ') == []


def test_fuzziness_follows_elasticsearch_auto() -> None:
    assert [fuzziness(t) for t in ("ab", "abc", "abcde", "abcdef")] == [0, 1, 1, 2]
    assert within_distance("airbag", "airbga", 1)  # a transposition is one edit
    assert within_distance("airbag", "arbg", 2)
    assert not within_distance("airbag", "arbg", 1)
    assert not within_distance("airbag", "brakes", 2)


def test_highlights_wrap_matches_and_cut_long_text_around_the_first() -> None:
    assert highlight("fake airbags online", [(5, 12)]) == "fake <em>airbags</em> online"
    assert highlight("nothing", []) is None
    long = "x " * 200 + "airbag" + " y" * 200
    start = long.index("airbag")
    fragment = highlight(long, [(start, start + 6)])
    assert fragment is not None
    assert "<em>airbag</em>" in fragment
    assert len(fragment) < 200


@given(st.text(max_size=30))
def test_the_cached_skeleton_equals_the_indicators_skeleton(text: str) -> None:
    from alliance.indicators.confusable_skeleton import skeleton
    from alliance.indicators.keyword import fold_case

    # Whitespace aside, which no analyzer keeps.
    assert skeleton_text(text).split() == skeleton(fold_case(text)).split()
