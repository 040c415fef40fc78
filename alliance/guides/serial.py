"""Serial and lot formats: a restricted regular-expression dialect that is safe to run on
anyone's input.

Allowed: literal characters, escapes (``\\d \\w \\s`` and escaped punctuation), character
classes ``[...]``, groups ``(...)`` with ``|``, and the bounded quantifiers ``?``, ``{n}`` and
``{n,m}`` (at most :data:`MAX_REPEAT`). Refused: ``*`` and ``+`` (unbounded), back-references,
look-arounds, flags, a quantifier on a group that itself holds a quantifier or an alternation
(exponential backtracking), and patterns whose variable-width repeats multiply past
:data:`MAX_AMBIGUITY` (``[A-Z]{0,64}`` five times over backtracks 65⁵ ways: polynomial, but
seconds long), so no pattern can backtrack far. Patterns and values are length-limited and a pattern
always matches the whole value.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

MAX_PATTERN_CHARS = 200
MAX_VALUE_CHARS = 128
MAX_REPEAT = 64
# The product, over every variable-width repeat, of how many lengths it may take.
MAX_AMBIGUITY = 4096
_ESCAPES = set("dwsDWS") | set(r".-_/\()[]{}?|^$ #:+*")
_QUANT_RE = re.compile(r"\{(\d{1,3})(?:,(\d{1,3}))?\}")


class PatternError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class SerialCheck:
    valid: bool
    reason: str | None = None


def _check(pattern: str) -> None:
    if not pattern:
        raise PatternError("the pattern is empty")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(f"the pattern is longer than {MAX_PATTERN_CHARS} characters")
    # Per open group: whether it holds a quantifier.
    groups: list[bool] = []
    ambiguity = 1
    i, n = 0, len(pattern)
    last_atom_quantified_inside = False  # the atom just closed was a group holding quantifiers
    have_atom = False
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= n or pattern[i + 1] not in _ESCAPES:
                raise PatternError(f"unsupported escape at position {i}")
            i += 2
            have_atom, last_atom_quantified_inside = True, False
            continue
        if ch == "[":
            end = i + 1
            if end < n and pattern[end] == "^":
                end += 1
            if end < n and pattern[end] == "]":
                end += 1
            while end < n and pattern[end] != "]":
                if pattern[end] == "\\":
                    end += 1
                elif pattern[end] == "[":
                    raise PatternError(f"nested character class at position {end}")
                end += 1
            if end >= n:
                raise PatternError("an unclosed character class")
            i = end + 1
            have_atom, last_atom_quantified_inside = True, False
            continue
        if ch == "(":
            if pattern.startswith("(?", i) and not pattern.startswith("(?:", i):
                raise PatternError("look-arounds, flags and named groups are not supported")
            groups.append(False)
            i += 3 if pattern.startswith("(?:", i) else 1
            have_atom = False
            continue
        if ch == ")":
            if not groups:
                raise PatternError(f"an unbalanced parenthesis at position {i}")
            inner = groups.pop()
            if inner and groups:
                groups[-1] = True
            i += 1
            have_atom, last_atom_quantified_inside = True, inner
            continue
        if ch in "*+":
            raise PatternError("'*' and '+' are unbounded; use {n,m} instead")
        if ch in "?{":
            if ch == "{":
                m = _QUANT_RE.match(pattern, i)
                if m is None:
                    raise PatternError(f"a malformed quantifier at position {i}")
                low, high = int(m.group(1)), int(m.group(2) or m.group(1))
                if low > high or high > MAX_REPEAT:
                    raise PatternError(f"a repeat must be between 0 and {MAX_REPEAT}")
                length = m.end() - i
            else:
                low, high, length = 0, 1, 1
            ambiguity *= high - low + 1
            if ambiguity > MAX_AMBIGUITY:
                raise PatternError(
                    "too many variable-length parts: fix more lengths (e.g. {6} not {1,64})"
                )
            if not have_atom:
                raise PatternError(f"a quantifier with nothing to repeat at position {i}")
            if last_atom_quantified_inside:
                raise PatternError("a quantified group may not itself hold a quantifier or '|'")
            if groups:
                groups[-1] = True
            i += length
            have_atom = False
            continue
        if ch == "|":
            # Alternation under a repeat backtracks exponentially (``(a|a){64}``): a group
            # holding one counts as quantified.
            if groups:
                groups[-1] = True
            i += 1
            have_atom = False
            continue
        if ch in "^$":
            i += 1
            continue
        if ch == "]" or ch == "}":
            raise PatternError(f"an unbalanced {ch!r} at position {i}")
        i += 1
        have_atom, last_atom_quantified_inside = True, False
    if groups:
        raise PatternError("an unclosed group")


@functools.lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The checked pattern, compiled; raises :class:`PatternError` with the reason."""
    _check(pattern)
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise PatternError(str(exc)) from exc


def check_value(pattern: str, value: str) -> SerialCheck:
    compiled = compile_pattern(pattern)
    cleaned = value.strip()
    if not cleaned:
        return SerialCheck(False, "the value is empty")
    if len(cleaned) > MAX_VALUE_CHARS:
        return SerialCheck(False, f"the value is longer than {MAX_VALUE_CHARS} characters")
    if compiled.fullmatch(cleaned) is None:
        return SerialCheck(False, "does not match the format")
    return SerialCheck(True)
