from __future__ import annotations

import pytest

from alliance.indicators import IndicatorErrorCode, matches, normalise
from alliance.indicators.serial_pattern import MAX_MATCH_INPUT

from .conftest import assert_refused


@pytest.mark.parametrize(
    "value",
    [r"SN\d{8}", r"^SN\d{8}$", r"\ASN\d{8}\Z", r"/^SN\d{8}$/", r"/SN\d{8}/g", r"  SN\d{8}  "],
)
def test_anchors_and_slashes_are_dropped_since_patterns_match_whole_serials(value: str) -> None:
    assert normalise("serial_pattern", value).value == r"SN\d{8}"


def test_slash_flags_become_inline_flags() -> None:
    pattern = normalise("serial_pattern", r"/^sn\d{8}$/i").value
    assert pattern == r"(?i)sn\d{8}"
    assert matches(pattern, "SN12345678")


def test_an_escaped_dollar_is_not_an_anchor() -> None:
    assert normalise("serial_pattern", r"PRICE\d+\$").value == r"PRICE\d+\$"
    assert matches(r"PRICE\d+\$", "PRICE10$")


def test_spaces_inside_a_pattern_are_kept() -> None:
    assert normalise("serial_pattern", "SN  [0-9]{4}").value == "SN  [0-9]{4}"


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        (r"SN\d{8}", "SN12345678", "SN1234567"),
        (r"[A-Z]{2}-?\d{4,8}-?[A-Z0-9]{0,3}", "AB-123456-X1", "AB-12-X"),
        (r"(19|20)\d{2}-[0-9A-F]{8}", "2023-DEADBEEF", "1899-DEADBEEF"),
        (r"(?:[A-Z]{2}\d{2}){3}", "AB12CD34EF56", "AB12CD34"),
        (r"\d+-\d+", "123-456", "123-"),
        (r"[^\W_]{12}", "ABCdef123456", "ABCdef12345_"),
        (r"(?>\d+)X", "123X", "123"),
        (r"\d++X", "12X", "X"),
    ],
)
def test_safe_patterns_are_accepted_and_match_whole_values(
    pattern: str, good: str, bad: str
) -> None:
    canonical = normalise("serial_pattern", pattern).value
    assert matches(canonical, good)
    assert matches(canonical, f"  {good}\u200b ")
    assert not matches(canonical, bad)
    assert not matches(canonical, f"x{good}")


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        (r"(a+)+$", "repetition or an alternation"),
        (r"(a*)*", "repetition or an alternation"),
        (r"(a|a)*$", "repetition or an alternation"),
        (r"(a|aa)+", "repetition or an alternation"),
        (r"([a-z]+)*\d", "repetition or an alternation"),
        (r"(.*a){20}", "repetition or an alternation"),
        (r"(?:x+y?)+", "repetition or an alternation"),
        (r"(\w+\s?)+$", "repetition or an alternation"),
        (r"\d*\d*\d*\d*\d*x", "too long"),
        (r"a?" * 25 + "a" * 25, "too long"),
        (r".*.*.*=.*", "too long"),
        (r"(a)\1", "back-references"),
        (r"(?P<x>a)(?P=x)", "back-references"),
        (r"(a)?(?(1)b|c)", "back-references"),
        (r"(?=a)a", "look-ahead"),
        (r"(?<!a)b", "look-ahead"),
    ],
)
def test_catastrophic_patterns_are_refused_before_anything_runs(pattern: str, says: str) -> None:
    assert_refused(
        lambda: normalise("serial_pattern", pattern), IndicatorErrorCode.UNSAFE_PATTERN, says=says
    )


@pytest.mark.parametrize(
    ("pattern", "code"),
    [
        (r"SN[0-9", IndicatorErrorCode.INVALID_PATTERN),
        (r"(?<name", IndicatorErrorCode.INVALID_PATTERN),
        (r"a{99999999999}", IndicatorErrorCode.INVALID_PATTERN),
        (r"/SN\d+/q", IndicatorErrorCode.INVALID_PATTERN),
        (r"[[a-z]]", IndicatorErrorCode.INVALID_PATTERN),
        ("^$", IndicatorErrorCode.EMPTY),
        ("x" * 257, IndicatorErrorCode.TOO_LONG),
        ("x" * 100_000, IndicatorErrorCode.TOO_LONG),
        ("SN\x00", IndicatorErrorCode.INVALID_CHARACTER),
    ],
)
def test_invalid_patterns_are_refused(pattern: str, code: IndicatorErrorCode) -> None:
    error = assert_refused(lambda: normalise("serial_pattern", pattern), code)
    if code is IndicatorErrorCode.INVALID_PATTERN:
        assert any(w in error.message for w in ("regular expression", "flag", "ambiguous"))


def test_matches_refuses_an_unsafe_pattern_too() -> None:
    assert_refused(lambda: matches(r"(a+)+$", "aaaa!"), IndicatorErrorCode.UNSAFE_PATTERN)


def test_matches_bounds_the_input_length() -> None:
    assert matches(r"\d+", "1" * MAX_MATCH_INPUT)
    assert not matches(r"\d+", "1" * (MAX_MATCH_INPUT + 1))
    assert not matches(r"\d+", "1" * 10_000_000)


def test_allowed_worst_cases_finish_on_the_longest_input() -> None:
    # The worst shapes the checks let through, on the longest non-matching input.
    hostile = "1" * MAX_MATCH_INPUT + "!"
    for pattern in (r"\d*\d*\d?x", r"\d+-\d+", r"(?:\d\d)+x", r"[0-9a-z]*[0-9]*y"):
        assert not matches(pattern, hostile[:MAX_MATCH_INPUT])
