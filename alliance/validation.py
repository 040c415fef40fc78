"""Small reusable input checks that collect every problem instead of stopping at the first."""

from __future__ import annotations

import re
from enum import Enum
from typing import TypeVar

from iso3166 import countries_by_alpha2

from alliance.errors import FieldProblem, InvalidInput

E = TypeVar("E", bound=Enum)

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class Checker:
    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def fail(self, field: str, code: str, message: str) -> None:
        self.problems.append(FieldProblem((field,), code, message))

    def text(
        self, field: str, value: str | None, *, max_length: int, required: bool = True
    ) -> str | None:
        if value is None:
            if required:
                self.fail(field, "REQUIRED", "is required")
            return None
        cleaned = value.strip()
        if required and not cleaned:
            self.fail(field, "BLANK", "must not be empty")
        elif len(cleaned) > max_length:
            self.fail(field, "TOO_LONG", f"must be at most {max_length} characters")
        elif any(ch in cleaned for ch in "\x00"):
            self.fail(field, "INVALID_CHARACTERS", "must not contain NUL characters")
        return cleaned

    def slug(self, field: str, value: str) -> str:
        cleaned = value.strip()
        if not SLUG_RE.fullmatch(cleaned):
            self.fail(
                field,
                "INVALID_SLUG",
                "must be 1-63 lowercase letters, digits or hyphens, not starting or ending with a hyphen",
            )
        return cleaned

    def country(self, field: str, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        cleaned = value.strip().upper()
        if cleaned not in countries_by_alpha2:
            self.fail(
                field, "INVALID_COUNTRY", "must be an ISO 3166-1 alpha-2 code such as CN or DE"
            )
        return cleaned

    def choice(self, field: str, value: str | E, enum: type[E]) -> E | None:
        if isinstance(value, enum):
            return value
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in enum)
            self.fail(field, "INVALID_CHOICE", f"must be one of {allowed}")
            return None

    def raise_if_any(self) -> None:
        if self.problems:
            raise InvalidInput(self.problems)
