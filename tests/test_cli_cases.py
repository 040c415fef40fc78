"""``alliance cases export``, ``alliance evidence verify`` and ``alliance report``, run for real
against the demo (seeded by ``alliance demo``) in a child process."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import uuid4

from sqlalchemy import select

from alliance.auth.keys import generate_key, load_key_ring
from alliance.cases.demo import CASE_REFERENCE
from alliance.cases.models import Case
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.listings.counting import add_counts
from alliance.listings.models import ALL_GROUPS
from tests import test_cli as harness
from tests.test_cli import Cli

# The CLI harness's fixtures: a data dir and database after ``db upgrade`` and ``demo``.
seeded = harness.seeded
cli = harness.cli


async def _demo_case_id(cli: Cli) -> str:
    engine = make_engine(cli.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            case = (
                await session.scalars(select(Case).where(Case.reference == CASE_REFERENCE))
            ).one()
            return str(case.id)
    finally:
        await engine.dispose()


def _tampered(source: Path, target: Path, suffix: str) -> str:
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        name = next(n for n in original.namelist() if n.endswith(suffix))
        for member in original.namelist():
            data = original.read(member)
            if member == name:
                data = data[:5] + bytes([data[5] ^ 0x20]) + data[6:]
            copy.writestr(member, data)
    return name


async def test_the_demo_case_exports_verifies_and_names_a_tampered_file(
    cli: Cli,
    tmp_path: Path,
) -> None:
    case_id = await _demo_case_id(cli)
    out = tmp_path / "case.zip"
    assert "manifest head" in cli.ok("cases", "export", case_id, "--output", str(out))

    verified = json.loads(cli.ok("evidence", "verify", str(out), "--json"))
    assert verified["ok"] is True, verified
    assert verified["entries"] == 3  # two receipts and the platform's sales records
    assert verified["case_id"] == case_id
    with zipfile.ZipFile(out) as archive:
        doc = json.loads(archive.read("manifest.json"))
    assert doc["case"]["status"] == "CLOSED"
    assert doc["case"]["enforcement_organisation"] == "city-police"
    assert doc["case"]["outcome"]["seized_value"] == "480000.00 CNY"
    assert len(doc["case"]["test_buys"]) == 2

    bad = tmp_path / "tampered.zip"
    name = _tampered(out, bad, "shopmart-sales-58200417.csv")
    result = cli("evidence", "verify", str(bad))
    assert result.returncode == 1
    assert "FAILED: 1 problem(s)" in result.stdout
    assert f"{name}: its SHA-256 does not match the manifest" in result.stdout


async def test_a_package_checked_against_other_keys_fails_on_the_signature(
    cli: Cli,
    tmp_path: Path,
) -> None:
    case_id = await _demo_case_id(cli)
    out = tmp_path / "case.zip"
    cli.ok("cases", "export", case_id, "--output", str(out), "--redact", "all")
    other = tmp_path / "jwks.json"
    other.write_text(json.dumps({"keys": [generate_key().as_dict(private=False)]}))
    result = cli("evidence", "verify", str(out), "--jwks", str(other))
    assert result.returncode == 1
    assert "signature.jws: does not verify" in result.stdout
    published = tmp_path / "published.json"
    keys = load_key_ring(pem=None, key_file=cli.data_dir / "keys" / "signing-key.pem")
    published.write_text(json.dumps(keys.public_jwks()))
    assert "OK: case" in cli.ok("evidence", "verify", str(out), "--jwks", str(published))
    with zipfile.ZipFile(out) as archive:
        doc = json.loads(archive.read("manifest.json"))
    assert {b["buyer_name"] for b in doc["case"]["test_buys"]} == {"[redacted]"}


def test_an_unknown_case_fails_with_a_message(cli: Cli, tmp_path: Path) -> None:
    result = cli(
        "cases",
        "export",
        "00000000-0000-7000-8000-000000000000",
        "--output",
        str(tmp_path / "x.zip"),
    )
    assert result.returncode == 1
    assert "not found" in result.stderr
    assert not (tmp_path / "x.zip").exists()


async def _count_listing_checks(cli: Cli, year: int) -> None:
    """Counters as the API processes flush them: some organisation's checks in March."""
    engine = make_engine(cli.database_url)
    try:
        async with unit_of_work(make_sessionmaker(engine)) as session:
            await add_counts(session, {(date(year, 3, 14), uuid4(), ALL_GROUPS): [40, 3, 2]})
    finally:
        await engine.dispose()


async def test_the_yearly_report_in_csv_and_html(cli: Cli, tmp_path: Path) -> None:
    year = str(datetime.now(UTC).year)
    await _count_listing_checks(cli, int(year))
    rows = list(csv.DictReader(io.StringIO(cli.ok("report", "--year", year, "--format", "csv"))))
    assert [r["period"] for r in rows] == [f"{year}-{m:02d}" for m in range(1, 13)] + [year]
    total = rows[-1]
    assert total["cases_closed"] == "1"
    assert total["suspects"] == "2"
    assert total["test_buys_counterfeit"] == "2"
    assert total["seized_value"] == "480000.00 CNY"
    assert (total["listings_checked"], total["listings_blocked"]) == ("40", "3")
    assert (rows[2]["listings_checked"], rows[0]["listings_checked"]) == ("40", "0")
    out = tmp_path / "report.html"
    cli.ok("report", "--year", year, "--format", "html", "--output", str(out))
    page = out.read_text()
    assert page.count("<svg") == 8
    assert "<script" not in page
    bad = cli("report", "--year", year, "--format", "pdf")
    assert bad.returncode == 2
