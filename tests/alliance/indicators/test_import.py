"""Bulk import: good rows land, bad rows are reported by line and column, the same file twice
changes nothing, and a crashed import resumes from its last committed chunk."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from alliance.changelog.models import ChangeLogEntry
from alliance.db import unit_of_work
from alliance.errors import Forbidden
from alliance.indicators import importing, service
from alliance.indicators.models import ImportJob, ImportState, Indicator, IndicatorAssertion
from alliance.sharing.policy import Viewer
from tests.alliance.indicators.builders import viewer

HEADER = ["type", "value", "platform", "carrier", "working_group", "distribution", "tlp", "confidence",
          "severity", "brands", "tags", "evidence", "valid_until", "group_key", "note"]  # fmt: skip


def good_row(n: int) -> dict[str, str]:
    return {
        "type": "seller_account",
        "value": f"https://shopee.cn/shop/{100000 + n}",
        "distribution": "WORKING_GROUP",
        "tlp": "AMBER",
        "confidence": str(40 + n % 60),
        "severity": "HIGH",
        "brands": "Acme|acme",
        "tags": "case-7|airbag",
        "evidence": "https://evidence.example/1",
        "group_key": f"case-{n % 7}",
        "note": f"row {n}",
    }


# Each bad row, the column and code its refusal must name.
BAD_ROWS: list[tuple[dict[str, str], str, str]] = [
    ({"value": "not a shop", "platform": ""}, "platform", "REQUIRED"),
    ({"confidence": "high"}, "confidence", "INVALID_CELL"),
    ({"confidence": "140"}, "confidence", "OUT_OF_RANGE"),
    ({"tlp": "PURPLE"}, "tlp", "INVALID_CHOICE"),
    ({"working_group": "no-such-group"}, "working_group", "NOT_FOUND"),
    ({"working_group": "consumer-electronics"}, "working_group", "FORBIDDEN"),
    ({"valid_until": "next tuesday"}, "valid_until", "INVALID_CELL"),
    ({"valid_until": "2030-01-01T00:00:00"}, "valid_until", "NAIVE_DATETIME"),
    ({"evidence": "ftp://x.example/e"}, "evidence", "INVALID_URL"),
    ({"type": "carrier_pigeon"}, "type", "UNKNOWN_TYPE"),
]


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=HEADER)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in HEADER})
    return path


def mixed_rows(total: int) -> tuple[list[dict[str, str]], dict[int, tuple[str, str]]]:
    """``total`` rows, every tenth one bad; returns the rows and {file line: (column, code)}."""
    rows: list[dict[str, str]] = []
    bad: dict[int, tuple[str, str]] = {}
    for n in range(total):
        row = good_row(n)
        if n % 10 == 9:
            change, column, code = BAD_ROWS[(n // 10) % len(BAD_ROWS)]
            row |= change
            bad[n + 2] = (column, code)  # line 1 is the header
        rows.append(row)
    return rows, bad


async def count(session: Any, model: Any, *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def start(
    sessions: Any, org: Any, path: Path, data_dir: Path, group: Any = None
) -> importing.Started:
    async with unit_of_work(sessions) as s:
        return await importing.start_import(
            s,
            await viewer(s, org),
            importing.stage_path(data_dir, path),
            data_dir=data_dir,
            working_group_id=group.id if group else None,
        )


async def test_good_rows_land_and_every_bad_row_is_reported_by_line_and_column(
    sessions, demo: dict[str, Any], tmp_path: Path, job_sender
) -> None:
    acme, group = demo["orgs"]["acme-motors"], demo["groups"]["automotive-parts"]
    rows, bad = mixed_rows(200)
    data_dir = tmp_path / "var"
    started = await start(sessions, acme, write_csv(tmp_path / "in.csv", rows), data_dir, group)
    assert started.created
    assert [(j.name, j.kwargs) for j in job_sender.sent] == [
        ("indicators.import_file", {"job_id": str(started.job.id)})
    ]

    seen: list[int] = []
    job = await importing.run_import(
        sessions, started.job.id, data_dir=data_dir, chunk_size=64,
        on_chunk=lambda j: seen.append(j.rows_done),
    )  # fmt: skip

    assert job is not None
    assert job.state == ImportState.DONE
    assert (job.rows_total, job.rows_done, job.rows_failed) == (200, 200, 20)
    assert seen == [64, 128, 192, 200], "progress is committed after each chunk"
    reported = {(e["line"], e["column"], e["code"]) for e in job.report["errors"]}
    assert reported == {(line, col, code) for line, (col, code) in bad.items()}
    assert all(e["message"] for e in job.report["errors"])
    assert job.report["created"] == 180
    async with sessions() as s:
        assert await count(s, IndicatorAssertion, IndicatorAssertion.owner_org_id == acme.id) == 180
        assert await count(s, ChangeLogEntry, ChangeLogEntry.kind == "indicator.assertion") == 180


async def test_the_same_file_twice_changes_nothing(
    sessions, demo: dict[str, Any], tmp_path: Path, job_sender
) -> None:
    acme, group = demo["orgs"]["acme-motors"], demo["groups"]["automotive-parts"]
    data_dir = tmp_path / "var"
    path = write_csv(tmp_path / "in.csv", mixed_rows(50)[0])
    first = await start(sessions, acme, path, data_dir, group)
    await importing.run_import(sessions, first.job.id, data_dir=data_dir)
    async with sessions() as s:
        before = [
            await count(s, model) for model in (Indicator, IndicatorAssertion, ChangeLogEntry)
        ]

    again = await start(sessions, acme, path, data_dir, group)
    rerun = await importing.run_import(sessions, first.job.id, data_dir=data_dir)

    assert not again.created
    assert again.job.id == first.job.id
    assert len(job_sender.sent) == 1, "the second upload queues nothing"
    assert rerun is not None
    assert rerun.state == ImportState.DONE
    async with sessions() as s:
        after = [await count(s, model) for model in (Indicator, IndicatorAssertion, ChangeLogEntry)]
        assert await count(s, ImportJob) == 1
    assert after == before
    assert not list((data_dir / "imports" / "incoming").iterdir()), "no staged file left behind"


class Crash(Exception):
    pass


async def test_a_crashed_import_resumes_after_its_last_committed_chunk(
    sessions, demo: dict[str, Any], tmp_path: Path, job_sender
) -> None:
    acme, group = demo["orgs"]["acme-motors"], demo["groups"]["automotive-parts"]
    data_dir = tmp_path / "var"
    rows, _bad = mixed_rows(120)
    started = await start(sessions, acme, write_csv(tmp_path / "in.csv", rows), data_dir, group)

    def crash(job: ImportJob) -> None:
        raise Crash

    with pytest.raises(Crash):
        await importing.run_import(
            sessions, started.job.id, data_dir=data_dir, chunk_size=50, on_chunk=crash
        )
    async with sessions() as s:
        half = await s.get(ImportJob, started.job.id, populate_existing=True)
        assert half is not None
        assert (half.state, half.rows_done) == (ImportState.RUNNING, 50)
        assert await count(s, IndicatorAssertion) == 45
    # Sending the file again queues the unfinished job again (its worker died).
    again = await start(sessions, acme, tmp_path / "in.csv", data_dir, group)
    assert not again.created
    assert [j.kwargs["job_id"] for j in job_sender.sent] == [str(started.job.id)] * 2

    job = await importing.run_import(sessions, started.job.id, data_dir=data_dir, chunk_size=50)

    assert job is not None
    assert (job.state, job.rows_done, job.rows_failed) == (ImportState.DONE, 120, 12)
    assert job.report["errors_total"] == 12
    assert sorted({e["line"] for e in job.report["errors"]}) == [n + 2 for n in range(9, 120, 10)]
    async with sessions() as s:
        assert await count(s, IndicatorAssertion) == 108
        assert await count(s, ChangeLogEntry, ChangeLogEntry.kind == "indicator.assertion") == 108


def assertion_columns(a: IndicatorAssertion) -> tuple[Any, ...]:
    return (
        a.working_group_id, a.distribution, a.tlp, a.confidence, a.severity, a.brands,
        a.product_category, a.valid_from, a.valid_until, a.note, a.tags, a.evidence_links,
        a.details, a.group_key, a.status, a.score, a.version,
    )  # fmt: skip


async def test_an_import_writes_what_submit_writes_for_the_same_input(
    sessions, demo: dict[str, Any], tmp_path: Path
) -> None:
    """One definition of validity: the file's rows, as Submissions, through ``submit`` by
    another organisation give the same indicators and assertions, refused or not."""
    acme, police = demo["orgs"]["acme-motors"], demo["orgs"]["city-police"]
    group = demo["groups"]["automotive-parts"]
    data_dir = tmp_path / "var"
    rows, _bad = mixed_rows(60)
    for n, row in enumerate(rows):
        if n % 10 == 3:  # other types and parts too
            row |= {"type": "waybill", "value": "RR123456785CN", "platform": "",
                    "carrier": ["China Post", "ems", "usps"][n % 3], "group_key": ""}  # fmt: skip
    path = write_csv(tmp_path / "in.csv", rows)
    started = await start(sessions, acme, path, data_dir, group)
    await importing.run_import(sessions, started.job.id, data_dir=data_dir, chunk_size=25)

    with importing.open_text(path) as stream:
        file_rows = list(importing.read_rows(stream, "csv"))
    groups = {
        "automotive-parts": group.id,
        "consumer-electronics": demo["groups"]["consumer-electronics"].id,
    }
    converted = [importing.to_submission(r, groups, group.id) for r in file_rows]
    async with unit_of_work(sessions) as s:
        results = await service.submit(
            s,
            await viewer(s, police),
            [c.submission for c in converted if c.submission is not None],
        )
    async with sessions() as s:
        imported = {
            (await s.get(Indicator, a.indicator_id)).value: assertion_columns(a)  # type: ignore[union-attr]
            for a in await s.scalars(
                select(IndicatorAssertion).where(IndicatorAssertion.owner_org_id == acme.id)
            )
        }
    submitted = {r.indicator.value: assertion_columns(r.assertion) for r in results if r.assertion}
    # city-police only observes consumer-electronics too, so the same rows are refused.
    assert sum(1 for r in results if r.error) + sum(1 for c in converted if c.errors) == 6
    assert imported.keys() == submitted.keys()
    for value, columns in imported.items():
        assert columns[:14] == submitted[value][:14], value


async def test_a_file_with_an_unknown_column_fails_whole_and_says_why(
    sessions, demo: dict[str, Any], tmp_path: Path
) -> None:
    acme = demo["orgs"]["acme-motors"]
    data_dir = tmp_path / "var"
    path = tmp_path / "in.csv"
    path.write_text("type,value,confidance\nkeyword,fake airbag,90\n", encoding="utf-8")
    started = await start(sessions, acme, path, data_dir)

    job = await importing.run_import(sessions, started.job.id, data_dir=data_dir)

    assert job is not None
    assert job.state == ImportState.FAILED
    assert "confidance" in job.report["message"]
    assert job.report["errors"][0]["column"] == "confidance"
    async with sessions() as s:
        assert await count(s, IndicatorAssertion) == 0


async def test_jsonl_rows_take_parts_objects_and_lists_and_bad_lines_are_reported(
    sessions, demo: dict[str, Any], tmp_path: Path
) -> None:
    acme, group = demo["orgs"]["acme-motors"], demo["groups"]["automotive-parts"]
    data_dir = tmp_path / "var"
    lines = [
        json.dumps(
            {
                "type": "seller_account",
                "value": "58200417",
                "parts": {"platform": "Shopee"},
                "brands": ["Acme"],
                "confidence": 80,
            }
        ),  # fmt: skip
        "{not json",
        "",
        json.dumps({"type": "phone", "value": "138 0013 8000", "country": "CN", "tags": "a|b"}),
        json.dumps(["a list"]),
        json.dumps({"type": "keyword", "value": "fake airbag", "colour": "red"}),
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = await start(sessions, acme, path, data_dir, group)

    job = await importing.run_import(sessions, started.job.id, data_dir=data_dir)

    assert job is not None
    assert job.state == ImportState.DONE
    assert (job.rows_total, job.rows_done, job.rows_failed) == (5, 5, 3)
    assert [(e["line"], e["column"], e["code"]) for e in job.report["errors"]] == [
        (2, None, "INVALID_JSON"),
        (5, None, "NOT_AN_OBJECT"),
        (6, "colour", "UNKNOWN_COLUMN"),
    ]
    async with sessions() as s:
        values = set(await s.scalars(select(Indicator.value)))
    assert values == {"shopee:58200417", "+8613800138000"}


def test_csv_rows_are_numbered_by_the_line_they_start_on() -> None:
    text = 'type,value,note\nkeyword,a,"two\nlines"\nkeyword,b,\n\nkeyword,c,x,extra\n'
    rows = list(importing.read_csv(io.StringIO(text)))
    assert [(r.line, r.error.code if r.error else None) for r in rows] == [
        (2, None),
        (4, None),
        (6, "WRONG_CELL_COUNT"),
    ]


async def test_a_viewer_that_is_no_member_may_not_import(tmp_path: Path, session) -> None:
    staged = importing.stage_path(tmp_path, Path(__file__))
    with pytest.raises(Forbidden):
        await importing.start_import(session, Viewer.anonymous(), staged, data_dir=tmp_path)


def test_the_report_keeps_the_first_errors_and_counts_them_all() -> None:
    errors = [importing.RowError(n, "value", "BLANK", "must not be empty") for n in range(700)]
    report = importing._merged_report({}, errors, created=3, updated=0)
    report = importing._merged_report(report, errors, created=2, updated=1)
    assert len(report["errors"]) == importing.MAX_REPORTED_ERRORS
    assert report["errors_total"] == 1400
    assert report["errors_by_code"] == {"BLANK": 1400}
    assert (report["created"], report["updated"]) == (5, 1)
