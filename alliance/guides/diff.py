"""What changed between two versions of a guide, section by section. Pure.

Sections holding identified items (features, serial formats) are compared item by item, so a
reviewer sees "tell X added, feature Y changed" rather than one changed blob."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from alliance.guides.sections import SECTIONS, section_of

ITEM_SECTIONS = ("features", "serial_formats")


class Change(enum.StrEnum):
    ADDED = "ADDED"
    REMOVED = "REMOVED"
    CHANGED = "CHANGED"


@dataclass(frozen=True, slots=True)
class ItemChange:
    id: str
    change: Change
    before: Any = None
    after: Any = None


@dataclass(frozen=True, slots=True)
class SectionChange:
    section: str
    change: Change
    before: Any = None
    after: Any = None
    items: tuple[ItemChange, ...] = field(default_factory=tuple)


def _empty(value: Any) -> bool:
    return value in (None, "", [], {}) or (
        isinstance(value, dict) and all(_empty(v) for v in value.values())
    )


def _items(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> tuple[ItemChange, ...]:
    old = {i["id"]: i for i in before}
    new = {i["id"]: i for i in after}
    changes = []
    for ident, item in new.items():
        if ident not in old:
            changes.append(ItemChange(ident, Change.ADDED, None, item))
        elif old[ident] != item:
            changes.append(ItemChange(ident, Change.CHANGED, old[ident], item))
    changes += [
        ItemChange(i, Change.REMOVED, item, None) for i, item in old.items() if i not in new
    ]
    return tuple(changes)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[SectionChange]:
    """The sections that differ, in reading order (unchanged sections are left out)."""
    found = []
    for name in SECTIONS:
        a, b = section_of(before, name), section_of(after, name)
        if a == b:
            continue
        if _empty(a):
            change = Change.ADDED
        elif _empty(b):
            change = Change.REMOVED
        else:
            change = Change.CHANGED
        items = _items(a or [], b or []) if name in ITEM_SECTIONS else ()
        found.append(SectionChange(name, change, a, b, items))
    return found
