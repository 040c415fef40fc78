"""Identification guides as STIX objects: an extension-defined object that passes
``stix2-validator`` with no error, and ``alliance stix export`` carries a guide's covert
features to an enforcement organisation and to nobody the tier rule keeps them from."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from stix2validator import validate_instance

from alliance import migrate
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.guides.demo import AIRBAG
from alliance.guides.sections import parse_content
from alliance.sharing import TLP
from alliance.stix.exporting import definition_objects
from alliance.stix.extensions import GUIDE_TYPE, Instance
from alliance.stix.guides import GuideData, guide_object
from alliance.stix.ids import instance_namespace
from tests.alliance.stix.test_cli import run
from tests.conftest import BACKENDS, create_fresh_database

INSTANCE = Instance(
    instance_namespace("https://alliance.example"), "Test", "https://alliance.example"
)
NOW = datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC)
COVERT = "uv-micromark"
FORENSIC = "inflator-alloy"


def _errors(obj: dict[str, Any]) -> list[str]:
    return [str(e) for e in validate_instance(obj).errors]


def _data(status: str, **changes: Any) -> GuideData:
    values: dict[str, Any] = {
        "id": uuid.UUID("01938a2c-0000-7000-8000-000000000009"),
        "title": AIRBAG["title"],
        "owner_org_id": uuid.UUID("01938a2c-0000-7000-8000-0000000000aa"),
        "working_group_slug": "automotive-parts",
        "distribution": "WORKING_GROUP",
        "tlp": TLP.AMBER,
        "status": status,
        "language": "en",
        "version_number": 2,
        "published_at": NOW,
        "content": parse_content(AIRBAG, known_categories=None),
        "created_at": NOW - timedelta(days=3),
        "updated_at": NOW,
        "indicator_ids": (uuid.UUID("01938a2c-0000-7000-8000-000000000001"),),
    }
    return GuideData(**(values | changes))


@pytest.mark.parametrize("status", ["PUBLISHED", "ARCHIVED"])
def test_a_guide_is_an_extension_defined_object_that_validates(status: str) -> None:
    obj = guide_object(INSTANCE, _data(status))
    assert _errors(obj) == []
    assert obj["type"] == GUIDE_TYPE
    assert obj["revoked"] is (status == "ARCHIVED")
    assert obj["name"] == AIRBAG["title"]
    assert obj["lang"] == "en"
    assert obj["guide_version"] == 2
    assert obj["brands"] == AIRBAG["brands"]
    assert obj["product_lines"] == AIRBAG["product_lines"]
    assert obj["gtins"]
    assert obj["object_marking_refs"] == [
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
    ]
    assert len(obj["indicator_refs"]) == 1
    assert obj["indicator_refs"][0].startswith("indicator--")
    features = {f["id"]: f for f in obj["sections"]["features"]}
    assert features[COVERT]["tier"] == "COVERT"
    assert features["etched-label"]["text"].startswith("The label is **laser-etched**")
    assert obj["sections"]["serial_formats"]
    assert INSTANCE.extension_id(GUIDE_TYPE) in obj["extensions"]
    [definition] = [o for o in definition_objects(INSTANCE) if o.get("name") == GUIDE_TYPE]
    assert definition["id"] == INSTANCE.extension_id(GUIDE_TYPE)
    assert definition["extension_types"] == ["new-sdo"]


def test_empty_sections_are_absent_rather_than_empty() -> None:
    bare = parse_content({"title": "Bare guide"}, known_categories=None)
    obj = guide_object(INSTANCE, _data("PUBLISHED", content=bare, indicator_ids=()))
    assert _errors(obj) == []
    for name in ("brands", "gtins", "indicator_refs", "description", "sections"):
        assert name not in obj, name


async def _instance(tmp_path: Path, backend: str) -> tuple[str, Any]:
    from alliance.demo import seed

    url, drop = await create_fresh_database(backend, tmp_path)
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url)
    try:
        async with unit_of_work(make_sessionmaker(engine)) as session:
            await seed(session, with_indicators=True, with_guides=True)
    finally:
        await engine.dispose()
    return url, drop


def _export(tmp_path: Path, url: str, org: str) -> dict[str, Any]:
    out = tmp_path / f"{org}.json"
    done = run(tmp_path, url, "stix", "export", "--org", org, "--output", str(out))
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _guides(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["name"]: o for o in bundle["objects"] if o["type"] == GUIDE_TYPE}


@pytest.mark.parametrize("backend", BACKENDS)
async def test_stix_export_carries_covert_features_only_to_whom_the_tier_rule_allows(
    tmp_path: Path, backend: str
) -> None:
    url, drop = await _instance(tmp_path, backend)
    try:
        police = _export(tmp_path, url, "city-police")
        platform = _export(tmp_path, url, "shopmart")
        outsider = _export(tmp_path, url, "volt-electronics")
    finally:
        if drop is not None:
            await drop()
    airbag = AIRBAG["title"]
    # Enforcement sees the covert and forensic features.
    seen = {f["id"] for f in _guides(police)[airbag]["sections"]["features"]}
    assert {COVERT, FORENSIC, "etched-label"} <= seen
    # A platform member of the group reads the guide, without them: absent, not redacted.
    guide = _guides(platform)[airbag]
    assert {f["id"] for f in guide["sections"]["features"]} == {"etched-label", "surplus-listing"}
    text = json.dumps(guide)
    assert "micro-mark" not in text
    assert "XRF" not in text
    assert "COVERT" not in text
    # A brand with no seat in automotive-parts does not get the group's guide at all.
    assert airbag not in _guides(outsider)
    for bundle in (police, platform):
        ids = {o["id"] for o in bundle["objects"]}
        for obj in _guides(bundle).values():
            assert _errors(obj) == [], _errors(obj)
            assert obj["created_by_ref"] in ids
            assert obj["revoked"] is False
            # The tell compiled into an indicator the reader sees, in the same bundle.
            assert obj["indicator_refs"]
            assert set(obj["indicator_refs"]) <= ids
