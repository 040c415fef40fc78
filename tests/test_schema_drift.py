"""The committed ``schema/schema.graphql`` is the schema the code builds, byte for byte."""

from __future__ import annotations

import difflib
from pathlib import Path

from schema.schema import export_sdl

COMMITTED = Path(__file__).resolve().parents[1] / "schema" / "schema.graphql"
FIX = "alliance schema export > schema/schema.graphql"


def test_committed_schema_matches_the_code() -> None:
    committed = COMMITTED.read_bytes()
    built = export_sdl().encode("utf-8")
    if committed != built:
        diff = "".join(
            difflib.unified_diff(
                committed.decode("utf-8", errors="replace").splitlines(keepends=True),
                built.decode("utf-8").splitlines(keepends=True),
                "schema/schema.graphql (committed)",
                "export_sdl() (code)",
            )
        )
        raise AssertionError(
            f"schema/schema.graphql is out of date with the code; run `{FIX}` and commit it."
            f"\n{diff or '(the difference is in line endings or encoding only)'}"
        )


def test_export_is_stable() -> None:
    assert export_sdl() == export_sdl()
    assert export_sdl().endswith("\n")
    assert not export_sdl().endswith("\n\n")
