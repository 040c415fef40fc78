"""Change-log write throughput: small committed transactions from concurrent writers.

Each transaction records one change through ``record_change`` (buffered, written in the
commit, on PostgreSQL behind the commit-order advisory lock). The same number of
transactions inserting the same row into a bare table with no lock is the physical
limit it is compared with.

    python -m benchmarks.changelog_writes [--transactions 4000] [--writers 8]

PostgreSQL is measured too when ALLIANCE_BENCH_DATABASE_URL (or ALLIANCE_TEST_DATABASE_URL)
names a server; a scratch database is created there and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid

from sqlalchemy import text

from alliance import migrate
from alliance.changelog.models import Operation
from alliance.changelog.service import record_change
from alliance.config import normalise_database_url
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.sharing import TLP, Distribution


async def through_change_log(url: str, transactions: int, writers: int) -> float:
    engine = make_engine(url, pool_size=writers + 2)
    sessions = make_sessionmaker(engine)
    per = transactions // writers

    async def writer(n: int) -> None:
        for i in range(per):
            async with unit_of_work(sessions) as s:
                record_change(
                    s,
                    kind="bench",
                    object_id=f"{n}-{i}",
                    version=1,
                    operation=Operation.CREATE,
                    distribution=Distribution.ALLIANCE,
                    tlp=TLP.GREEN,
                )

    started = time.perf_counter()
    await asyncio.gather(*(writer(n) for n in range(writers)))
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return per * writers / elapsed


async def bare_inserts(url: str, transactions: int, writers: int) -> float:
    engine = make_engine(url, pool_size=writers + 2)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE TABLE bench_bare (seq INTEGER PRIMARY KEY, kind VARCHAR(64), object_id VARCHAR(64))"
            )
        )
    per = transactions // writers
    counter = iter(range(1, transactions + 1))

    async def writer(n: int) -> None:
        for i in range(per):
            async with engine.begin() as conn:
                await conn.execute(
                    text("INSERT INTO bench_bare (seq, kind, object_id) VALUES (:s, 'bench', :o)"),
                    {"s": next(counter), "o": f"{n}-{i}"},
                )

    started = time.perf_counter()
    await asyncio.gather(*(writer(n) for n in range(writers)))
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return per * writers / elapsed


async def scratch_postgres(base: str) -> tuple[str, str]:
    name = f"alliance_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base)
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return base.rsplit("/", 1)[0] + f"/{name}", name


async def drop_postgres(base: str, name: str) -> None:
    admin = make_engine(base)
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


async def measure(label: str, url: str, transactions: int, writers: int) -> None:
    await asyncio.to_thread(migrate.upgrade, url)
    ours = await through_change_log(url, transactions, writers)
    bare = await bare_inserts(url, transactions, writers)
    print(
        f"{label:<11} change-log transactions: {ours:8.0f}/s   bare inserts, no lock: {bare:8.0f}/s"
        f"   ratio {ours / bare:.2f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=4000)
    parser.add_argument("--writers", type=int, default=8)
    args = parser.parse_args()
    print(f"{args.transactions} committed transactions from {args.writers} concurrent writers")
    with tempfile.TemporaryDirectory() as tmp:
        await measure(
            "sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db", args.transactions, args.writers
        )
    pg = os.environ.get("ALLIANCE_BENCH_DATABASE_URL") or os.environ.get(
        "ALLIANCE_TEST_DATABASE_URL"
    )
    if pg:
        base = normalise_database_url(pg)
        url, name = await scratch_postgres(base)
        try:
            await measure("postgresql", url, args.transactions, args.writers)
        finally:
            await drop_postgres(base, name)
    else:
        print("postgresql  skipped: set ALLIANCE_BENCH_DATABASE_URL to measure it")


if __name__ == "__main__":
    asyncio.run(main())
