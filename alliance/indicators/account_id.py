"""How a platform's account ids are written: which case, which prefix, which characters."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator

MAX_ACCOUNT_ID_LENGTH = 128


@dataclass(frozen=True, slots=True)
class AccountIdRule:
    """``case_sensitive=False`` folds ids to ``case`` ("lower" or "upper"); ``pattern`` is what
    a folded id must fully match; ``prefixes`` are dropped first (``@`` of a handle, ``$`` of a
    cashtag); ``describe`` tells a person what a valid id looks like.

    Ids are case-sensitive unless the platform is known to ignore case: folding two ids that
    the platform keeps apart would merge two sellers, which is worse than a missed match.
    """

    describe: str
    pattern: str = r"\S{1,128}"
    case_sensitive: bool = True
    case: str = "lower"
    prefixes: tuple[str, ...] = ()
    fold: Callable[[str], str] | None = None

    def normalise(self, text: str, *, field: str, what: str) -> str:
        stripped = True
        while stripped:  # "@@shop" loses both: a canonical id never starts with a prefix
            stripped = False
            for prefix in self.prefixes:
                if text[: len(prefix)].lower() == prefix.lower():
                    text = text[len(prefix) :].strip()
                    stripped = True
        if not self.case_sensitive:
            text = text.upper() if self.case == "upper" else text.lower()
        if self.fold is not None:
            text = self.fold(text)
        if len(text) > MAX_ACCOUNT_ID_LENGTH or not _compiled(self.pattern).fullmatch(text):
            raise InvalidIndicator(
                field,
                IndicatorErrorCode.INVALID_ACCOUNT_ID,
                f"is not a valid {what}: {self.describe}",
            )
        return text


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_SEPARATORS = re.compile(r"[\s._-]+")


def registry_key(name: str) -> str:
    """Registry names are matched ignoring case, spaces, dots, hyphens and underscores."""
    return _SEPARATORS.sub("", name).casefold()
