"""Bulk import throughput: a CSV of mixed indicator types through the import job, end to end
(stage the file, start the job, run it chunk by chunk as the worker does, every row
normalised, checked, written with its change-log row and audit entry), compared on
PostgreSQL with ``COPY`` of the same rows into a bare table (the physical limit).

It also measures the database's own floor for this import: exactly the rows the import
wrote (indicators, match keys, assertions, change-log rows, audit entries) taken out and
written back by the fastest path the database has (``COPY`` on PostgreSQL, ``executemany``
of prepared rows on SQLite), one transaction per chunk as the import commits, with every
index, constraint and foreign key in place. No import that writes those rows can beat it.

    python -m benchmarks.indicator_import [--rows 50000] [--chunk-size 2000]
    python -m benchmarks.indicator_import --rows 1000000      # the goal: PG >= 50,000/s, SQLite >= 20,000/s

PostgreSQL is measured when ALLIANCE_BENCH_DATABASE_URL (or ALLIANCE_TEST_DATABASE_URL)
names a server; a scratch database is created there and dropped afterwards. The job runs in
this process (the worker's code, without the broker hop, which costs one message per file).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import csv
import json
import os
import pstats
import random
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg

from alliance import migrate
from alliance.config import normalise_database_url
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.demo import seed
from alliance.indicators import importing, service
from alliance.jobs import SENDER_KEY
from alliance.orgs import repository as orgs_repo
from benchmarks._jobs import NoBroker
from benchmarks.changelog_writes import drop_postgres, scratch_postgres

HEADER = ["type", "value", "platform", "carrier", "country", "working_group", "distribution",
          "tlp", "confidence", "severity", "brands", "tags", "note"]  # fmt: skip
CARRIERS = ("China Post", "ems", "usps")


def _s10(n: int) -> str:
    digits = f"{n % 100_000_000:08d}"
    weights = (8, 6, 4, 2, 3, 5, 9, 7)
    check = 11 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    check = 0 if check == 10 else 5 if check == 11 else check
    return f"RR{digits}{check}CN"


def row(n: int, rng: random.Random) -> list[str]:
    """Row ``n``: a value unique to ``n``, of one of nine types."""
    kind = n % 9
    base = ["", "", "", "", "", "automotive-parts", "WORKING_GROUP", "AMBER",
            str(rng.randint(10, 100)), rng.choice(("LOW", "MEDIUM", "HIGH")), "Acme", "bench",
            ""]  # fmt: skip
    if kind == 0:
        base[0:3] = ["seller_account", str(10_000_000 + n), "Shopee"]
    elif kind == 1:
        base[0:2] = ["listing_url", f"https://shop{n % 97}.example/item/{n}?utm_source=x&b=2&a=1"]
    elif kind == 2:
        base[0:2] = ["domain", f"fake-parts-{n}.example"]
    elif kind == 3:
        base[0:2] = ["keyword", f"Genuine Airbag Model {n}"]
    elif kind == 4:
        base[0:2] = ["email", f"Seller.{n}+shop@Fakes-{n % 13}.example"]
    elif kind == 5:
        base[0:2] = ["phone", f"138{n % 100_000_000:08d}"]
        base[4] = "CN"
    elif kind == 6:
        base[0:2] = ["waybill", _s10(n)]
        base[3] = CARRIERS[n % 3]
    elif kind == 7:
        base[0:2] = ["ip", f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"]
    else:
        base[0:2] = ["storefront_url", f"https://Store-{n}.example/shop/"]
    return base


def write_file(path: Path, rows: int) -> None:
    rng = random.Random(7)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(rows):
            writer.writerow(row(n, rng))


async def seed_demo(url: str) -> None:
    engine = make_engine(url, pool_size=2)
    async with unit_of_work(make_sessionmaker(engine, **{SENDER_KEY: NoBroker()})) as s:
        await seed(s)
    await engine.dispose()


async def import_file(url: str, path: Path, data_dir: Path, chunk_size: int) -> tuple[float, dict]:
    engine = make_engine(url, pool_size=2)
    sessions = make_sessionmaker(engine, **{SENDER_KEY: NoBroker()})
    started = time.perf_counter()
    async with unit_of_work(sessions) as s:
        org = await orgs_repo.organisation_by_slug(s, "acme-motors")
        assert org is not None
        begun = await importing.start_import(
            s,
            await service.viewer_of_organisation(s, org.id),
            importing.stage_path(data_dir, path),
            data_dir=data_dir,
        )
    job = await importing.run_import(
        sessions, begun.job.id, data_dir=data_dir, chunk_size=chunk_size
    )
    elapsed = time.perf_counter() - started
    await engine.dispose()
    assert job is not None
    return elapsed, {
        "state": job.state.value,
        "done": job.rows_done,
        "failed": job.rows_failed,
        "codes": job.report.get("errors_by_code"),
    }


def copy_bare(url: str, path: Path) -> float:
    """COPY the same CSV into a bare table of text columns: the physical limit."""
    import psycopg

    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        columns = ", ".join(f'"{c}" text' for c in HEADER)
        conn.execute(f"CREATE TABLE bench_copy ({columns})")
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy("COPY bench_copy FROM STDIN (FORMAT csv, HEADER true)") as copy,
        ):
            with path.open("rb") as src:
                while block := src.read(1 << 20):
                    copy.write(block)
        return time.perf_counter() - started


# The tables an import writes, parents first, with their primary keys.
WRITTEN = {
    "indicators": "id",
    "indicator_match_keys": "id",
    "indicator_assertions": "id",
    "change_log": "seq",
    "audit_log": "seq",
}
Rows = dict[str, tuple[list[str], list[tuple[Any, ...]]]]


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite+aiosqlite:///")


async def written_keys(url: str) -> dict[str, set[Any]]:
    """The primary keys already in the tables an import writes (the demo's rows)."""
    if url.startswith("postgresql"):
        conn = await asyncpg.connect(_dsn(url))
        try:
            return {
                t: {r[0] for r in await conn.fetch(f"SELECT {pk} FROM {t}")}
                for t, pk in WRITTEN.items()
            }
        finally:
            await conn.close()
    with sqlite3.connect(_sqlite_path(url)) as conn:
        return {
            t: {r[0] for r in conn.execute(f"SELECT {pk} FROM {t}")} for t, pk in WRITTEN.items()
        }


def _by_chunk(written: Rows, chunks: int) -> list[dict[str, list[tuple[Any, ...]]]]:
    """The import's rows dealt into ``chunks`` transactions as the import made them: each
    indicator with its match keys and assertions, change-log rows and audit entries evenly."""
    columns, indicators = written["indicators"]
    key = columns.index("id")
    indicators.sort(key=lambda r: r[key])  # time-ordered ids: the order they were made in
    chunk_of = {r[key]: i * chunks // len(indicators) for i, r in enumerate(indicators)}
    dealt: list[dict[str, list[tuple[Any, ...]]]] = [
        {t: [] for t in written} for _ in range(chunks)
    ]
    for table, (cols, rows) in written.items():
        parent = (
            "id" if table == "indicators" else "indicator_id" if "indicator_id" in cols else None
        )
        at = cols.index(parent) if parent else None
        for i, r in enumerate(rows):
            dealt[chunk_of[r[at]] if at is not None else i * chunks // len(rows)][table].append(r)
    return dealt


async def floor_postgres(
    url: str, before: dict[str, set[Any]], chunks: int, connections: int = 1
) -> float:
    """Seconds to COPY the import's rows back into the emptied tables (see the module doc),
    the chunks shared out over ``connections`` sessions writing at once."""
    conns = [await asyncpg.connect(_dsn(url)) for _ in range(connections)]
    try:
        written: Rows = {}
        for table, pk in WRITTEN.items():
            rows = await conns[0].fetch(f"SELECT * FROM {table}")
            columns = list(rows[0].keys())
            written[table] = (columns, [tuple(r) for r in rows if r[pk] not in before[table]])
        for table, pk in reversed(WRITTEN.items()):
            await conns[0].execute(
                f"DELETE FROM {table} WHERE NOT ({pk} = ANY($1))", list(before[table])
            )
        await conns[0].execute("VACUUM ANALYZE")
        dealt = _by_chunk(written, chunks)

        async def put_back(conn: asyncpg.Connection, parts: list[dict[str, list[Any]]]) -> None:
            for part in parts:
                async with conn.transaction():
                    for table, (columns, _) in written.items():
                        if part[table]:
                            await conn.copy_records_to_table(
                                table, columns=columns, records=part[table]
                            )

        started = time.perf_counter()
        # A chunk holds its indicators' keys and assertions: chunks are independent.
        await asyncio.gather(
            *(put_back(conn, dealt[k::connections]) for k, conn in enumerate(conns))
        )
        return time.perf_counter() - started
    finally:
        for conn in conns:
            await conn.close()


def floor_sqlite(url: str, before: dict[str, set[Any]], chunks: int) -> float:
    """Seconds to insert the import's rows back into the emptied tables, with the pragmas the
    application sets (see the module doc)."""
    conn = sqlite3.connect(_sqlite_path(url), isolation_level=None)
    try:
        for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL"):
            conn.execute(f"PRAGMA {pragma}")
        written: Rows = {}
        for table, pk in WRITTEN.items():
            cursor = conn.execute(f"SELECT * FROM {table}")
            columns = [d[0] for d in cursor.description]
            at = columns.index(pk)
            written[table] = (columns, [r for r in cursor if r[at] not in before[table]])
        conn.execute("BEGIN")
        for table, pk in reversed(WRITTEN.items()):
            conn.execute(
                f"DELETE FROM {table} WHERE {pk} NOT IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(before[table])),),
            )
        conn.execute("COMMIT")
        started = time.perf_counter()
        for part in _by_chunk(written, chunks):
            conn.execute("BEGIN")
            for table, (columns, _) in written.items():
                if part[table]:
                    marks = ", ".join("?" for _ in columns)
                    conn.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                        part[table],
                    )
            conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()


async def phases(url: str, path: Path) -> dict[str, float]:
    """Seconds spent reading the file into Submissions, then checking them (normalisers and
    rules), outside any transaction: the pure share of the import's time."""
    engine = make_engine(url, pool_size=2)
    async with make_sessionmaker(engine)() as s:
        org = await orgs_repo.organisation_by_slug(s, "acme-motors")
        group = await orgs_repo.working_group_by_slug(s, "automotive-parts")
        assert org is not None
        assert group is not None
        viewer = await service.viewer_of_organisation(s, org.id)
    await engine.dispose()
    started = time.perf_counter()
    with importing.open_text(path) as stream:
        converted = [
            importing.to_submission(r, {"automotive-parts": group.id}, None)
            for r in importing.read_rows(stream, "csv")
        ]
    read = time.perf_counter() - started
    started = time.perf_counter()
    for c in converted:
        importing.check_submission(viewer, c.submission)
    return {"read": read, "check": time.perf_counter() - started}


async def measure(
    label: str, url: str, path: Path, rows: int, chunk_size: int, profile: bool
) -> None:
    await asyncio.to_thread(migrate.upgrade, url)
    await seed_demo(url)
    before = await written_keys(url)
    with tempfile.TemporaryDirectory() as tmp:
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        elapsed, outcome = await import_file(url, path, Path(tmp), chunk_size)
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
    rate = rows / elapsed
    pure = await phases(url, path)
    line = (
        f"{label:<11} import {rows} rows: {elapsed:7.1f}s  {rate:8.0f} rows/s  {outcome}\n"
        f"{'':<11} of which reading the file {pure['read']:.1f}s, checking rows (normalisers) "
        f"{pure['check']:.1f}s, writing (rows, change log, audit chain, commits) "
        f"{elapsed - pure['read'] - pure['check']:.1f}s"
    )
    chunks = -(-rows // chunk_size)
    if url.startswith("postgresql"):
        floor = await floor_postgres(url, before, chunks)
        how = "COPY"
    else:
        floor = await asyncio.to_thread(floor_sqlite, url, before, chunks)
        how = "executemany"
    line += (
        f"\n{'':<11} the same rows written back by {how} (the database's floor: every index, "
        f"constraint and foreign key, a transaction a chunk): {floor:6.2f}s "
        f"{rows / floor:9.0f} rows/s   ratio import/floor {floor / elapsed:.3f}"
    )
    cores = os.cpu_count() or 1
    if url.startswith("postgresql") and cores > 1:
        both = await floor_postgres(url, before, chunks, connections=cores)
        line += (
            f"\n{'':<11} the same by COPY over {cores} connections at once (the machine's "
            f"ceiling, every core writing): {both:6.2f}s {rows / both:9.0f} rows/s"
        )
    if url.startswith("postgresql"):
        copy = await asyncio.to_thread(copy_bare, url, path)
        line += f"\n{'':<11} COPY into a bare table: {copy:6.2f}s {rows / copy:9.0f} rows/s   ratio import/COPY {copy / elapsed:.3f}"
    print(line, flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--chunk-size", type=int, default=importing.CHUNK_SIZE)
    parser.add_argument("--only", choices=("sqlite", "postgresql"), default=None)
    parser.add_argument("--profile", action="store_true", help="print where the time goes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "indicators.csv"
        write_file(path, args.rows)
        print(f"{args.rows} CSV rows of 9 indicator types ({path.stat().st_size / 1e6:.1f} MB), "
              f"chunks of {args.chunk_size}")  # fmt: skip
        if args.only in (None, "sqlite"):
            await measure("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db", path, args.rows,
                          args.chunk_size, args.profile)  # fmt: skip
        pg = os.environ.get("ALLIANCE_BENCH_DATABASE_URL") or os.environ.get(
            "ALLIANCE_TEST_DATABASE_URL"
        )
        if args.only in (None, "postgresql"):
            if not pg:
                print("postgresql  skipped: set ALLIANCE_BENCH_DATABASE_URL to measure it")
                return
            base = normalise_database_url(pg)
            url, name = await scratch_postgres(base)
            try:
                await measure("postgresql", url, path, args.rows, args.chunk_size, args.profile)
            finally:
                await drop_postgres(base, name)


if __name__ == "__main__":
    asyncio.run(main())
