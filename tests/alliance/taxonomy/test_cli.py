"""``alliance taxonomy import`` / ``map`` and ``alliance rules backtest`` as a user runs them."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

from alliance.listings.demo import catalogue_text


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
    env["ALLIANCE_DATA_DIR"] = str(tmp_path / "var")
    return subprocess.run(
        [sys.executable, "-m", "alliance.cli", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_import_map_and_backtest_from_the_command_line(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    first = run(tmp_path, "taxonomy", "import", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["created"] == 5595
    mapping = tmp_path / "map.csv"
    mapping.write_text("platform_category_id,category_id\nSP-1,8233\nSP-2,999999999\n")
    refused = run(tmp_path, "taxonomy", "map", "--platform", "ebay", str(mapping))
    assert refused.returncode == 1
    assert "UNKNOWN_CATEGORY" in refused.stderr
    mapping.write_text("SP-1,8233\n")
    mapped = run(tmp_path, "taxonomy", "map", "--platform", "ebay", str(mapping), "--json")
    assert json.loads(mapped.stdout)["created"] == 1
    bad = tmp_path / "bad.txt"
    bad.write_text("1 - A\n2 - B > C\n")
    failed = run(tmp_path, "taxonomy", "import", str(bad))
    assert failed.returncode == 1
    assert "line 2" in failed.stderr

    assert run(tmp_path, "demo").returncode == 0
    with sqlite3.connect(tmp_path / "var" / "alliance.db") as db:
        raw = db.execute("SELECT id FROM rules WHERE name LIKE 'Supplemental%'").fetchone()[0]
    rule_id = str(uuid.UUID(hex=raw.replace("-", "")))
    catalogue = tmp_path / "catalogue.jsonl"
    catalogue.write_text(catalogue_text())
    report = run(tmp_path, "rules", "backtest", rule_id, str(catalogue), "--json")
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["blocked"] == 1
