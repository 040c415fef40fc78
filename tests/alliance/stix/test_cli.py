"""``alliance stix export`` and ``alliance stix import`` as a user runs them: an organisation's
bundle, imported into another instance, carries its indicators over exactly."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from stix2validator import validate_instance

from alliance import migrate
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.indicators import service as indicators
from alliance.indicators.models import RevocationReason
from alliance.orgs import repository as orgs_repo
from tests.conftest import BACKENDS, create_fresh_database

ORG = "acme-motors"


def run(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
    env["ALLIANCE_DATA_DIR"] = str(tmp_path / "var")
    env["ALLIANCE_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "alliance.cli", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def _instance(tmp_path: Path, backend: str, *, with_indicators: bool) -> tuple[str, Any]:
    from alliance.demo import seed

    url, drop = await create_fresh_database(backend, tmp_path)
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url)
    try:
        async with unit_of_work(make_sessionmaker(engine)) as session:
            await seed(session, with_indicators=with_indicators)
            if with_indicators:
                # One revoked assertion, to travel as ``revoked: true``.
                org = await orgs_repo.organisation_by_slug(session, ORG)
                assert org is not None
                viewer = await indicators.viewer_of_organisation(session, org.id)
                [result] = await indicators.submit(
                    session,
                    viewer,
                    [
                        indicators.Submission(
                            type="domain",
                            value="revoked-shop.example",
                            tlp="GREEN",
                            distribution="ORGANISATION",
                        )
                    ],
                )
                assert result.assertion is not None, result.error
                await indicators.revoke(
                    session, viewer, result.assertion.id, reason=RevocationReason.TAKEN_DOWN
                )
    finally:
        await engine.dispose()
    return url, drop


def _me(bundle: dict[str, Any]) -> str:
    [me] = [
        o["id"]
        for o in bundle["objects"]
        if o["type"] == "identity"
        and o.get("external_references", [{}])[0].get("external_id") == ORG
    ]
    return str(me)


def _own(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The exporting organisation's own indicators, as comparable records."""
    me = _me(bundle)
    found = []
    for obj in bundle["objects"]:
        if obj["type"] != "indicator" or obj["created_by_ref"] != me:
            continue
        [ext] = obj["extensions"].values()
        found.append(
            {
                **{
                    k: obj.get(k)
                    for k in (
                        "pattern",
                        "object_marking_refs",
                        "confidence",
                        "revoked",
                        "valid_until",
                        "description",
                        "labels",
                    )
                },
                **{k: v for k, v in ext.items() if k != "score"},
            }
        )
    return sorted(found, key=lambda r: (r["pattern"], r.get("working_group") or ""))


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_bundle_round_trips_between_instances(tmp_path: Path, backend: str) -> None:
    source, drop_source = await _instance(tmp_path / "a", backend, with_indicators=True)
    target, drop_target = await _instance(tmp_path / "b", backend, with_indicators=False)
    try:
        (tmp_path / "a").mkdir(exist_ok=True)
        bundle_file = tmp_path / "bundle.json"
        exported = await asyncio.to_thread(
            run, tmp_path, source, "stix", "export", "--org", ORG, "--output", str(bundle_file)
        )
        assert exported.returncode == 0, exported.stderr
        bundle = json.loads(bundle_file.read_text())
        assert bundle["type"] == "bundle"
        for obj in bundle["objects"]:
            assert [str(e) for e in validate_instance(obj).errors] == [], obj["id"]
        mine = _own(bundle)
        assert mine, "the demo gives acme-motors indicators"
        assert any(o["revoked"] for o in mine)
        assert not any(
            o["object_marking_refs"] == ["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"]
            for o in bundle["objects"]
            if o["type"] == "indicator"
        ), "TLP:RED never leaves the instance"

        # The bundle as the other instance receives it, plus one object it must refuse.
        # The organisation's own indicators (what it shares on), not what others told it.
        own_ids = {o["id"] for o in bundle["objects"] if o.get("created_by_ref") == _me(bundle)}
        rules = [o for o in bundle["objects"] if o["type"] == "alliance-banned-category-rule"]
        assert rules, "the demo's banned-category rules travel too"
        bundle["objects"] = [
            o
            for o in bundle["objects"]
            if o["type"] not in ("indicator", "alliance-banned-category-rule") or o["id"] in own_ids
        ]
        bad = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": "indicator--7c0d3c8e-55a8-4a8d-9d6a-1b8a5e0b6f10",
            "created": "2026-11-30T10:00:00.000Z",
            "modified": "2026-11-30T10:00:00.000Z",
            "pattern": "[alliance-phone-number:value = 'not a phone']",
            "pattern_type": "stix",
            "valid_from": "2026-11-30T10:00:00.000Z",
        }
        bundle["objects"].append(bad)
        bundle_file.write_text(json.dumps(bundle))
        imported = await asyncio.to_thread(
            run, tmp_path, target, "stix", "import", str(bundle_file), "--org", ORG, "--json"
        )
        assert imported.returncode == 0, imported.stderr
        report = json.loads(imported.stdout)
        failures = {f["id"]: f["message"] for f in report["failures"]}
        assert "value" in failures.pop(bad["id"])
        # The organisation's rules travel in the bundle; STIX does not write rules here.
        assert failures
        assert all(k.startswith("alliance-banned-category-rule--") for k in failures)
        assert all("not imported" in m for m in failures.values())

        again = await asyncio.to_thread(
            run,
            tmp_path,
            target,
            "stix",
            "export",
            "--org",
            ORG,
            "--output",
            str(tmp_path / "b.json"),
        )
        assert again.returncode == 0, again.stderr
        assert _own(json.loads((tmp_path / "b.json").read_text())) == mine
    finally:
        for drop in (drop_source, drop_target):
            if drop is not None:
                await drop()
