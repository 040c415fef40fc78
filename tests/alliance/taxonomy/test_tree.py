from __future__ import annotations

from pathlib import Path

import pytest

from alliance.errors import InvalidInput
from alliance.taxonomy.tree import (
    CategoryTree,
    packaged_taxonomy_lines,
    parse_platform_mapping,
    parse_taxonomy,
)

MOTOR_VEHICLE_PARTS = 899
BRAKING = 2977


def test_parses_googles_published_file(shared_dir: Path) -> None:
    path = shared_dir / "data" / "google-product-taxonomy-2021-09-21.en-US.txt"
    categories = parse_taxonomy(path.read_text(encoding="utf-8").splitlines())
    assert len(categories) == 5595
    braking = next(c for c in categories if c.id == BRAKING)
    assert braking.path[-2:] == ("Motor Vehicle Parts", "Motor Vehicle Braking")
    assert braking.full_name.startswith("Vehicles & Parts > ")


def test_the_package_ships_the_same_file(shared_dir: Path) -> None:
    path = shared_dir / "data" / "google-product-taxonomy-2021-09-21.en-US.txt"
    assert list(packaged_taxonomy_lines()) == path.read_text(encoding="utf-8").splitlines(True)


def test_descendants_are_within_their_ancestors() -> None:
    tree = CategoryTree.from_categories(parse_taxonomy(packaged_taxonomy_lines()))
    assert tree.is_within(BRAKING, MOTOR_VEHICLE_PARTS)
    assert not tree.is_within(MOTOR_VEHICLE_PARTS, BRAKING)
    assert tree.ancestors(BRAKING)[0] == BRAKING
    assert tree.ancestors(10**8) == []


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        (["1 - A", "nonsense"], "INVALID_LINE"),
        (["1 - A", "1 - B"], "DUPLICATE_ID"),
        (["1 - A", "2 - A"], "DUPLICATE_PATH"),
        (["1 - A", "2 - B > C"], "MISSING_PARENT"),
        (["1 - A", "2 - A >  > C"], "EMPTY_NAME"),
        (["# only a comment"], "EMPTY"),
    ],
)
def test_bad_files_are_refused_naming_the_line(lines: list[str], code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_taxonomy(lines)
    problem = caught.value.problems[0]
    assert problem.code == code
    if code != "EMPTY":
        assert problem.path == ("file", "line 2")


def test_platform_mappings_with_or_without_header() -> None:
    assert [
        (m.platform_category_id, m.category_id)
        for m in parse_platform_mapping(["platform_category_id,category_id", "SM-77,2977"])
    ] == [("SM-77", 2977)]
    assert len(parse_platform_mapping(["a,1", "b,2"])) == 2
    with pytest.raises(InvalidInput) as caught:
        parse_platform_mapping(["a,1", "a,2", "b,x"])
    assert [p.code for p in caught.value.problems] == ["DUPLICATE_ID", "INVALID_LINE"]
