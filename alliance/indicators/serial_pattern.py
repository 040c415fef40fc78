"""Serial-number patterns: regular expressions that a fake's serial number matches.

A pattern always matches a whole serial number, so a leading ``^``/``\\A`` and a trailing
``$``/``\\Z`` add nothing and are dropped, and ``/…/i`` as written in JavaScript is read as
``(?i)…``.

Python's ``re`` backtracks, and a pattern such as ``(a+)+$`` takes exponential time on a
non-matching input. Patterns are therefore inspected before they are accepted (nothing is run):

- back-references, conditionals and look-arounds are refused;
- a repeated group may not contain another repetition or an alternation (``(a+)+``, ``(a|a)*``);
- the number of ways the remaining quantifiers and alternations can split an input of
  ``MAX_MATCH_INPUT`` characters is bounded (``\\d*\\d*\\d*`` is refused, ``\\d+-\\d+`` is not);
- the pattern text is at most ``MAX_PATTERN_LENGTH`` characters;

and ``matches`` looks only at inputs up to ``MAX_MATCH_INPUT`` characters. Together they bound
the work of one match to about a million backtracking steps.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Iterable
from functools import lru_cache
from re import _constants as sre
from re import _parser as sre_parse  # the parser ``re`` itself uses
from typing import Any

from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.normalised import Normalised
from alliance.indicators.text_input import remove_ignorables, require_text

MAX_PATTERN_LENGTH = 256
MAX_MATCH_INPUT = 128
MAX_MATCH_PATHS = 1_000_000

_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
_SLASHED = re.compile(r"/(.+)/([a-z]*)", re.DOTALL)
_SLASH_FLAGS = {"i": "i", "m": "m", "s": "s", "x": "x", "g": "", "u": ""}


def _unsafe(why: str) -> InvalidIndicator:
    return InvalidIndicator("value", IndicatorErrorCode.UNSAFE_PATTERN, why)


def _paths(subpattern: Iterable[tuple[Any, Any]]) -> int:
    """An upper bound on the ways the sequence can match one input (1 = deterministic)."""
    total = 1
    for op, av in subpattern:
        if op in (sre.GROUPREF, sre.GROUPREF_EXISTS):
            raise _unsafe("back-references and conditionals are not allowed")
        if op in (sre.ASSERT, sre.ASSERT_NOT):
            raise _unsafe("look-ahead and look-behind are not allowed")
        if op in _REPEATS:
            low, high, body = av
            inner = _paths(body)
            if high > 1 and inner > 1:
                raise _unsafe(
                    "a repeated part may not itself contain a repetition or an alternation "
                    "(like (a+)+ or (a|b)*): such patterns can take exponential time; "
                    "use a character class such as [ab]+ instead"
                )
            if op is sre.POSSESSIVE_REPEAT:
                continue
            if high <= 1:
                total *= (1 + inner) if low == 0 else inner
            else:
                top = MAX_MATCH_INPUT if high == sre.MAXREPEAT else min(high, MAX_MATCH_INPUT)
                total *= max(top - low + 1, 1)
        elif op is sre.BRANCH:
            total *= sum(_paths(branch) for branch in av[1])
        elif op is sre.SUBPATTERN:
            total *= _paths(av[3])
        elif op is sre.ATOMIC_GROUP:
            _paths(av)  # checked for what it holds; it never backtracks into itself
        if total > MAX_MATCH_PATHS:
            raise _unsafe(
                "has too many optional or repeated parts in a row: matching it could take "
                "too long; make the repetitions bounded or fewer"
            )
    return total


def _strip_anchors(pattern: str) -> str:
    for anchor in ("^", "\\A"):
        if pattern.startswith(anchor):
            pattern = pattern[len(anchor) :]
            break
    for anchor in ("$", "\\Z", "\\z"):
        if pattern.endswith(anchor):
            before = pattern[: -len(anchor)]
            escapes = len(before) - len(before.rstrip("\\"))
            if anchor != "$" or escapes % 2 == 0:
                pattern = before
            break
    return pattern


def _canonical(text: str) -> str:
    slashed = _SLASHED.fullmatch(text)
    if slashed:
        unknown = set(slashed.group(2)) - set(_SLASH_FLAGS)
        if unknown:
            raise InvalidIndicator(
                "value",
                IndicatorErrorCode.INVALID_PATTERN,
                f"has an unknown flag after the closing slash: {''.join(sorted(unknown))}",
            )
        flags = "".join(sorted({_SLASH_FLAGS[f] for f in slashed.group(2)} - {""}))
        text = (f"(?{flags})" if flags else "") + _strip_anchors(slashed.group(1))
    return _strip_anchors(text)


@lru_cache(maxsize=4096)
def compile_serial_pattern(pattern: str) -> re.Pattern[str]:
    """The compiled pattern, once it passed every check (raises InvalidIndicator otherwise)."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise InvalidIndicator(
            "value", IndicatorErrorCode.TOO_LONG, f"is longer than {MAX_PATTERN_LENGTH} characters"
        )
    try:
        with warnings.catch_warnings():
            # "[[", "--" and the like in a set: their meaning is due to change.
            warnings.simplefilter("error", FutureWarning)
            parsed = sre_parse.parse(pattern)
            compiled = re.compile(pattern)
    except FutureWarning as warning:
        raise InvalidIndicator(
            "value",
            IndicatorErrorCode.INVALID_PATTERN,
            f"is ambiguous ({warning}): escape the character",
        ) from None
    except (re.error, OverflowError, RecursionError) as exc:
        why = getattr(exc, "msg", None) or "it cannot be parsed"
        raise InvalidIndicator(
            "value", IndicatorErrorCode.INVALID_PATTERN, f"is not a valid regular expression: {why}"
        ) from None
    _paths(parsed)
    return compiled


def normalise_serial_pattern(value: object) -> Normalised:
    # Not clean_text: spaces inside a pattern are part of it.
    text = remove_ignorables(require_text(value, field="value", max_length=MAX_PATTERN_LENGTH * 2))
    pattern = _canonical(text.strip())
    if not pattern:
        raise InvalidIndicator(
            "value", IndicatorErrorCode.EMPTY, "matches only an empty serial number"
        )
    compile_serial_pattern(pattern)
    return Normalised(IndicatorType.SERIAL_PATTERN, pattern)


def matches(pattern: str, value: str) -> bool:
    """Whether ``value`` (trimmed, NFKC, invisible characters removed) is wholly matched by the
    serial pattern. Values longer than ``MAX_MATCH_INPUT`` characters are no serial numbers and
    never match."""
    compiled = compile_serial_pattern(pattern)
    if not isinstance(value, str) or len(value) > MAX_MATCH_INPUT * 4:
        return False
    candidate = remove_ignorables(unicodedata.normalize("NFKC", value)).strip()
    if len(candidate) > MAX_MATCH_INPUT:
        return False
    return compiled.fullmatch(candidate) is not None
