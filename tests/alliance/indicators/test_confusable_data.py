"""The confusables data in use: its version, and skeletons checked against ICU 78's
SpoofChecker (computed once with PyICU; ICU is not a dependency)."""

from __future__ import annotations

import pytest
from homoglyph.data import load_prototypes, load_ucd

from alliance.indicators.confusable_skeleton import skeleton

ICU_SKELETONS = {
    "Nіke": "Nike",
    "N1KE": "NlKE",
    "nike": "nike",
    "раypal": "paypal",
    "rn": "rn",
    "m": "rn",
    "0": "O",
    "ǀ": "l",
    "ℌ": "H",
}


def test_data_is_unicode_17_confusables() -> None:
    assert load_ucd()["unicodeVersion"] == "17.0.0"
    assert len(load_prototypes()) > 6000


@pytest.mark.parametrize(("text", "expected"), sorted(ICU_SKELETONS.items()))
def test_skeletons_agree_with_icu(text: str, expected: str) -> None:
    assert skeleton(text) == expected


def test_skeleton_is_idempotent_on_prototypes() -> None:
    for text in ("paypal", "NlKE", "arnazon", "\u0435\u0445\u0430mple"):
        once = skeleton(text)
        assert skeleton(once) == once
