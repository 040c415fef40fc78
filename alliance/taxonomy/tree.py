"""The category tree: Google's product taxonomy format and partner platforms' mappings onto it.

Google publishes the taxonomy as one category a line, ``ID - Top > Middle > Leaf``, each
category after its parent. Parsing is strict (a line that is not a category, an id given
twice, a category whose parent is missing are errors naming the line), so an import either
reads the whole file or nothing.

Pure: no I/O beyond iterating the lines it is given.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources

from alliance.errors import FieldProblem, InvalidInput

PATH_SEPARATOR = " > "
MAX_ERRORS = 20
_LINE = re.compile(r"^(\d{1,9}) - (\S.*)$")
PACKAGED_TAXONOMY = "google-product-taxonomy-2021-09-21.en-US.txt"


@dataclass(frozen=True, slots=True)
class Category:
    id: int
    path: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.path[-1]

    @property
    def full_name(self) -> str:
        return PATH_SEPARATOR.join(self.path)


@dataclass(frozen=True, slots=True)
class PlatformCategory:
    platform_category_id: str
    category_id: int


def _problem(line: int, code: str, message: str) -> FieldProblem:
    return FieldProblem(("file", f"line {line}"), code, message)


def parse_taxonomy(lines: Iterable[str]) -> list[Category]:
    """Every category of a taxonomy file, parents before children; ``InvalidInput`` naming
    each bad line (the first :data:`MAX_ERRORS`) otherwise."""
    categories: list[Category] = []
    by_path: dict[tuple[str, ...], int] = {}
    ids: set[int] = set()
    problems: list[FieldProblem] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        found = _LINE.match(line)
        if found is None:
            problems.append(_problem(number, "INVALID_LINE", "is not 'ID - A > B > C'"))
        else:
            category_id = int(found.group(1))
            path = tuple(part.strip() for part in found.group(2).split(">"))
            if any(not part for part in path):
                problems.append(_problem(number, "EMPTY_NAME", "has an empty category name"))
            elif category_id in ids:
                problems.append(_problem(number, "DUPLICATE_ID", f"repeats id {category_id}"))
            elif path in by_path:
                problems.append(_problem(number, "DUPLICATE_PATH", "repeats a category"))
            elif len(path) > 1 and path[:-1] not in by_path:
                problems.append(
                    _problem(number, "MISSING_PARENT", "comes before (or without) its parent")
                )
            else:
                ids.add(category_id)
                by_path[path] = category_id
                categories.append(Category(category_id, path))
        if len(problems) >= MAX_ERRORS:
            break
    if problems:
        raise InvalidInput(problems)
    if not categories:
        raise InvalidInput([FieldProblem(("file",), "EMPTY", "holds no categories")])
    return categories


def parse_platform_mapping(lines: Iterable[str]) -> list[PlatformCategory]:
    """A partner's ``platform_category_id,category_id`` CSV (a header line is optional)."""
    mappings: list[PlatformCategory] = []
    seen: set[str] = set()
    problems: list[FieldProblem] = []
    for number, row in enumerate(csv.reader(lines), start=1):
        if not row or all(not cell.strip() for cell in row) or row[0].startswith("#"):
            continue
        if number == 1 and len(row) >= 2 and not row[1].strip().isdigit():
            continue  # the header
        if len(row) < 2 or not row[0].strip() or not row[1].strip().isdigit():
            problems.append(
                _problem(number, "INVALID_LINE", "is not 'platform_category_id,category_id'")
            )
        elif len(row[0].strip()) > 200:
            problems.append(_problem(number, "TOO_LONG", "platform category ids are ≤ 200 chars"))
        elif row[0].strip() in seen:
            problems.append(_problem(number, "DUPLICATE_ID", f"maps {row[0].strip()!r} twice"))
        else:
            seen.add(row[0].strip())
            mappings.append(PlatformCategory(row[0].strip(), int(row[1])))
        if len(problems) >= MAX_ERRORS:
            break
    if problems:
        raise InvalidInput(problems)
    return mappings


def packaged_taxonomy_lines() -> Iterator[str]:
    """Google's published taxonomy, shipped with the package, so a fresh install has it."""
    data = resources.files("alliance.taxonomy").joinpath("data", PACKAGED_TAXONOMY)
    with data.open(encoding="utf-8") as handle:
        yield from handle


class CategoryTree:
    """Parents by id, for "is this category within that one" (rules cover descendants)."""

    def __init__(self, parents: Iterable[tuple[int, int | None]] = ()) -> None:
        self.parent: dict[int, int | None] = dict(parents)

    @classmethod
    def from_categories(cls, categories: Iterable[Category]) -> CategoryTree:
        ids: dict[tuple[str, ...], int] = {}
        parents: list[tuple[int, int | None]] = []
        for c in categories:
            ids[c.path] = c.id
            parents.append((c.id, ids.get(c.path[:-1]) if len(c.path) > 1 else None))
        return cls(parents)

    def __contains__(self, category_id: object) -> bool:
        return category_id in self.parent

    def __len__(self) -> int:
        return len(self.parent)

    def ancestors(self, category_id: int) -> list[int]:
        """The category itself, then its parent, up to the root ([] for an unknown id)."""
        chain: list[int] = []
        current: int | None = category_id if category_id in self.parent else None
        while current is not None and current not in chain:
            chain.append(current)
            current = self.parent.get(current)
        return chain

    def is_within(self, category_id: int, ancestor_id: int) -> bool:
        return ancestor_id in self.ancestors(category_id)
