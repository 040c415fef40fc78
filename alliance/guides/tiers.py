"""Tier visibility: what of a guide's content a viewer may read. Whether a viewer sees the
restricted tiers at all is the sharing policy's ``can_see_restricted_tier``; this only cuts the
content accordingly, and every read path (query, search, print, export, diff) goes through it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alliance.guides.sections import RESTRICTED_TIERS


def visible_content(content: Mapping[str, Any], *, restricted: bool) -> dict[str, Any]:
    """``content`` without its covert and forensic features unless ``restricted`` is allowed."""
    shown = dict(content)
    if not restricted:
        shown["features"] = [
            f for f in content.get("features", []) if f.get("tier") not in RESTRICTED_TIERS
        ]
    return shown


def hidden_feature_ids(content: Mapping[str, Any], *, restricted: bool) -> set[str]:
    if restricted:
        return set()
    return {f["id"] for f in content.get("features", []) if f.get("tier") in RESTRICTED_TIERS}
