"""Indexer lag under sustained writes: partners submitting indicators at a steady rate, while
the indexer drains the change log into Tantivy in a process of its own.

A write is one new indicator submitted by a partner: the indicator, its assertion, its
change-log row and audit entry. ``--path submit`` writes through ``indicators.service.submit``
(the ``submitIndicators`` mutation); ``--path import`` through ``importing.bulk_submit`` (a
chunk of the import job, set-based). Writes are committed ``--batch`` to a transaction, as a
partner's batch is, by ``--writers`` processes taking turns on one schedule. Lag is the time
from a transaction's commit to the indexer's cursor passing the change-log head read just
after it (an upper bound: the head may include other writers' later commits).

    python -m benchmarks.search_lag [--rate 1000] [--seconds 20] [--batch 200] [--writers 2]
        [--path import|submit]
    # the goal: lag < 2 s at 1,000 writes/s

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import text

from alliance import migrate
from alliance.changelog import service as changelog
from alliance.config import IndicatorSettings, normalise_database_url
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.demo import seed
from alliance.indicators import importing, service
from alliance.jobs import SENDER_KEY
from alliance.orgs import repository as orgs_repo
from benchmarks._jobs import NoBroker
from search import indexer
from search.tantivy_backend import TantivyBackend

WRITE_PATHS = {
    "submit": "indicators.service.submit (the submitIndicators mutation)",
    "import": "importing.bulk_submit (an import job's chunk)",
}


def indexer_process(url: str, root: str, stop: Any, out: Any, ready: Any) -> None:
    """The worker's part, in a process of its own as in production: drain, note the cursor."""

    async def loop() -> None:
        engine = make_engine(url, pool_size=2)
        sessions = make_sessionmaker(engine)
        backend = TantivyBackend(Path(root))
        await indexer.drain(sessions, backend, batch_size=2000)
        ready.put("indexer")
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


def submissions(group: uuid.UUID, batch: int) -> list[service.Submission]:
    """``batch`` new domains, each one write: an indicator and its assertion."""
    tag = uuid.uuid4().hex[:10]
    return [
        service.Submission(
            type="domain",
            value=f"fake-parts-{tag}-{i}.example",
            working_group_id=group,
            brands=("Acme",),
            tags=("bench",),
            note="counterfeit airbag components shipped from this shop",
        )
        for i in range(batch)
    ]


def writer_process(
    url: str,
    org: uuid.UUID,
    group: uuid.UUID,
    schedule: tuple[float, int, int],
    path: str,
    batch: int,
    seconds: float,
    start: tuple[Any, Any],
    out: Any,
) -> None:
    """One writer: transaction ``index + n × writers`` of the schedule, each due at
    ``t0 + its number × interval``, each ``batch`` submissions. ``t0`` comes once every
    process is up (on this loaded 2-core machine, starting one takes seconds)."""
    interval, writers, index = schedule
    ready, go = start

    async def loop() -> None:
        engine = make_engine(url, pool_size=2)
        sessions = make_sessionmaker(engine, **{SENDER_KEY: NoBroker()})
        async with sessions() as s:
            viewer = await service.viewer_of_organisation(s, org)
        settings = IndicatorSettings()
        ready.put(f"writer {index}")
        t0 = go.get()
        n = 0
        while time.time() - t0 < seconds:
            due = t0 + (index + n * writers) * interval
            await asyncio.sleep(max(0.0, due - time.time()))
            async with unit_of_work(sessions) as s:
                items = submissions(group, batch)
                results: Sequence[importing.Outcome | service.ItemResult] = (
                    await service.submit(s, viewer, items)
                    if path == "submit"
                    else await importing.bulk_submit(s, viewer, items, settings=settings)
                )
            failed = [r.error for r in results if r.error is not None or not r.created]
            if failed:
                raise SystemExit(f"a submission was refused: {failed[0]}")
            now = time.time()
            async with sessions() as s:
                out.put((now, await changelog.head(s)))
            n += 1
        await engine.dispose()

    asyncio.run(loop())


async def prepare(url: str) -> tuple[uuid.UUID, uuid.UUID]:
    """The demo directory; the submitting partner and its working group."""
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url, pool_size=2)
    sessions = make_sessionmaker(engine, **{SENDER_KEY: NoBroker()})
    async with unit_of_work(sessions) as s:
        await seed(s)
    async with sessions() as s:
        org = await orgs_repo.organisation_by_slug(s, "acme-motors")
        group = await orgs_repo.working_group_by_slug(s, "automotive-parts")
    await engine.dispose()
    assert org is not None
    assert group is not None
    return org.id, group.id


async def run(
    url: str, root: Path, rate: int, seconds: float, writers: int, path: str, batch: int
) -> None:
    org, group = await prepare(url)
    engine = make_engine(url, pool_size=2)
    await TantivyBackend(root).ensure_index()
    context = multiprocessing.get_context("spawn")
    stop, out = context.Event(), context.Queue()
    ready, go, done = context.Queue(), context.Queue(), context.Queue()
    child = context.Process(target=indexer_process, args=(url, str(root), stop, out, ready))
    child.start()
    interval = batch / rate  # seconds between transactions, all writers together
    procs = [
        context.Process(
            target=writer_process,
            args=(url, org, group, (interval, writers, i), path, batch, seconds, (ready, go), done),
        )
        for i in range(writers)
    ]
    for proc in procs:
        proc.start()
    for _ in range(writers + 1):
        ready.get(timeout=300)
    t0 = time.time() + 0.5  # the writers start together
    for _ in range(writers):
        go.put(t0)
    commits: list[tuple[float, int]] = []  # (commit time, head after it)
    while any(p.is_alive() for p in procs) or not done.empty():
        try:
            commits.append(done.get(timeout=0.5))
        except queue.Empty:
            continue
    for proc in procs:
        proc.join()
    if any(p.exitcode for p in procs):
        raise SystemExit("a writer failed")
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
    writes = len(commits) * batch
    await engine.dispose()
    print(
        f"indexer lag, {engine.dialect.name} + tantivy, the indexer in its own process; "
        f"a write = one new indicator submitted (indicator, assertion, change-log row, audit "
        f"entry) through {WRITE_PATHS[path]}, {batch} to a transaction, "
        f"{writers} writer processes"
    )
    print(
        f"  writes: {writes:,} in {len(commits):,} transactions in {elapsed:.1f} s = "
        f"{writes / elapsed:,.0f} writes/s (asked {rate:,}/s)"
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
    parser.add_argument("--batch", type=int, default=200, help="writes a transaction")
    parser.add_argument("--path", choices=sorted(WRITE_PATHS), default="import")
    args = parser.parse_args()
    pg = os.environ.get("ALLIANCE_BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        if pg:
            base = normalise_database_url(pg)

            async def on_postgres() -> None:
                url, name = await scratch_postgres(base)
                try:
                    await run(
                        url,
                        Path(tmp) / "search",
                        args.rate,
                        args.seconds,
                        args.writers or 2,
                        args.path,
                        args.batch,
                    )
                finally:
                    await drop_postgres(base, name)

            asyncio.run(on_postgres())
        else:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            asyncio.run(
                run(
                    url,
                    Path(tmp) / "search",
                    args.rate,
                    args.seconds,
                    args.writers or 1,
                    args.path,
                    args.batch,
                )
            )


if __name__ == "__main__":
    main()
