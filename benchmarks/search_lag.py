"""Indexer lag under sustained writes: organisations created at a steady rate (committed in
small transactions, each recorded in the change log), while the indexer drains the log into
Tantivy. Lag is the time from a transaction's commit to the indexer's cursor passing it.

    python -m benchmarks.search_lag [--rate 1000] [--seconds 20]      # the goal: lag < 2 s

SQLite by default; PostgreSQL when ALLIANCE_BENCH_DATABASE_URL names a server (a scratch
database is created there and dropped afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import queue
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text

from alliance import migrate
from alliance.changelog import service as changelog
from alliance.config import normalise_database_url
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.orgs import service as orgs
from alliance.orgs.models import OrganisationKind
from search import indexer
from search.tantivy_backend import TantivyBackend

TICK = 0.1  # each writer commits rate × TICK writes every TICK × writers seconds


def indexer_process(url: str, root: str, stop: Any, out: Any) -> None:
    """The worker's part, in a process of its own as in production: drain, note the cursor."""

    async def loop() -> None:
        engine = make_engine(url, pool_size=2)
        sessions = make_sessionmaker(engine)
        backend = TantivyBackend(Path(root))
        while True:
            reports = await indexer.drain(sessions, backend, batch_size=2000)
            out.put((time.time(), reports[-1].cursor))
            if stop.is_set() and reports[-1].changes == 0:
                break
            if reports[-1].changes == 0:
                await asyncio.sleep(0.02)
        await backend.close()
        await engine.dispose()

    asyncio.run(loop())


def writer_process(
    url: str, per_tick: int, seconds: float, writers: int, index: int, t0: float, out: Any
) -> None:
    """One writer: ``per_tick`` organisations a transaction, every ``TICK × writers`` seconds."""

    async def loop() -> None:
        engine = make_engine(url, pool_size=2)
        sessions = make_sessionmaker(engine)
        n = 0
        while time.time() - t0 < seconds:
            due = t0 + (index + n * writers) * TICK
            await asyncio.sleep(max(0.0, due - time.time()))
            async with unit_of_work(sessions) as s:
                for _ in range(per_tick):
                    slug = f"b-{uuid.uuid4().hex[:12]}"
                    await orgs.create_organisation(
                        s,
                        None,
                        orgs.OrganisationData(
                            slug=slug, name=f"Brand {slug}", kind=OrganisationKind.BRAND
                        ),
                    )
            now = time.time()
            async with sessions() as s:
                out.put((now, await changelog.head(s)))
            n += 1
        await engine.dispose()

    asyncio.run(loop())


async def run(url: str, root: Path, rate: int, seconds: float, writers: int) -> None:
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url, pool_size=2)
    await TantivyBackend(root).ensure_index()
    commits: list[tuple[float, int]] = []  # (commit time, head after it)
    per_tick = max(1, int(rate * TICK))
    context = multiprocessing.get_context("spawn")
    stop, out = context.Event(), context.Queue()
    child = context.Process(target=indexer_process, args=(url, str(root), stop, out))
    child.start()
    done = context.Queue()
    t0 = time.time() + 2  # the writers start together, once their processes are up
    procs = [
        context.Process(
            target=writer_process,
            args=(url, per_tick, seconds, writers, i, t0, done),
        )
        for i in range(writers)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    while not done.empty():
        commits.append(done.get())
    elapsed = max(t for t, _seq in commits) - t0
    stop.set()
    progress: list[tuple[float, int]] = []
    while child.is_alive() or not out.empty():
        try:
            progress.append(out.get(timeout=0.5))
        except queue.Empty:
            continue
    child.join()
    lags = []
    for committed_at, seq in commits:
        indexed_at = next(t for t, cursor in progress if cursor >= seq)
        lags.append(max(0.0, indexed_at - committed_at))
    lags.sort()
    writes = len(commits) * per_tick
    await engine.dispose()
    print(
        f"indexer lag, {engine.dialect.name} + tantivy, {len(commits)} transactions of "
        f"{per_tick} writes, the indexer in its own process"
    )
    print(
        f"  writes: {writes:,} in {elapsed:.1f} s = {writes / elapsed:,.0f} writes/s (asked {rate:,}/s)"
    )
    print(
        f"  lag: p50 {statistics.median(lags):.2f} s  "
        f"p99 {lags[min(len(lags) - 1, int(len(lags) * 0.99))]:.2f} s  max {lags[-1]:.2f} s"
    )


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000, help="writes a second")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument(
        "--writers", type=int, default=None, help="writer processes (SQLite: 1, else 2)"
    )
    args = parser.parse_args()
    pg = os.environ.get("ALLIANCE_BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        if pg:
            base = normalise_database_url(pg)

            async def on_postgres() -> None:
                url, name = await scratch_postgres(base)
                try:
                    await run(url, Path(tmp) / "search", args.rate, args.seconds, args.writers or 2)
                finally:
                    await drop_postgres(base, name)

            asyncio.run(on_postgres())
        else:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            asyncio.run(run(url, Path(tmp) / "search", args.rate, args.seconds, args.writers or 1))


if __name__ == "__main__":
    main()
