"""A partner catching up the change feed: changes/s received by a client process over
``GET /v1/changes``, against a raw ``COPY (SELECT …) TO STDOUT`` of the same rows.

Makes a scratch PostgreSQL database (migrate, ``alliance demo``), fills ``change_log`` with
``--changes`` rows the reader (ShopMart, ``sync:read``) receives plus one in twenty it may
not see (another organisation's RED objects), with removals and working-group rows among
them (one ``INSERT … SELECT generate_series``). Starts ``alliance serve --no-worker`` in its
own process and, from this one, follows the feed from the start (``end.cursor`` while
``hasMore``, ``--page`` lines a request). In the same run it times, through psycopg, COPY of
the very query the server streams (the same rows and the same lines: the physical limit of
this path) and, for scale, COPY of the same rows' bare columns.

    python -m benchmarks.change_feed [--changes 1000000] [--page 100000]

Needs ALLIANCE_BENCH_DATABASE_URL (or ALLIANCE_TEST_DATABASE_URL) naming a PostgreSQL server;
the scratch database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

from alliance.config import normalise_database_url
from benchmarks.changelog_writes import drop_postgres, scratch_postgres
from benchmarks.listing_ndjson import alliance, free_port

GOAL_RATE = 50_000
GOAL_RATIO = 0.3
READER = "shopmart"

FILL = """
INSERT INTO change_log (
    occurred_at, kind, object_id, version, operation, owner_org_id, working_group_id,
    distribution, tlp, prev_owner_org_id, prev_working_group_id, prev_distribution, prev_tlp
)
SELECT
    timestamptz '2026-01-01 00:00:00+00' + n * interval '1 millisecond',
    CASE WHEN n %% 2 = 0 THEN 'indicator.assertion' ELSE 'rule' END,
    'bench-' || n,
    1 + n %% 3,
    CASE WHEN n %% 20 = 1 OR n %% 3 = 0 THEN 'UPDATE' ELSE 'CREATE' END,
    CASE WHEN n %% 20 IN (0, 1) THEN %(luxe)s::uuid ELSE %(acme)s::uuid END,
    CASE WHEN n %% 20 IN (2, 3) THEN %(group)s::uuid END,
    CASE WHEN n %% 20 IN (0, 1) THEN 'ORGANISATION'
         WHEN n %% 20 IN (2, 3) THEN 'WORKING_GROUP' ELSE 'ALLIANCE' END,
    CASE WHEN n %% 20 = 0 THEN 'RED' WHEN n %% 20 IN (1, 2, 3) THEN 'AMBER' ELSE 'GREEN' END,
    -- one row in twenty narrows an ALLIANCE object to its owner: a REMOVE for the reader
    CASE WHEN n %% 20 = 1 THEN %(luxe)s::uuid END,
    NULL,
    CASE WHEN n %% 20 = 1 THEN 'ALLIANCE' END,
    CASE WHEN n %% 20 = 1 THEN 'GREEN' END
FROM generate_series(1, %(rows)s) AS n
"""


def ids(conninfo: str) -> dict[str, str]:
    with psycopg.connect(conninfo) as conn:
        orgs = dict(conn.execute("SELECT slug, id::text FROM organisations").fetchall())
        groups = dict(conn.execute("SELECT slug, id::text FROM working_groups").fetchall())
    return {
        "acme": orgs["acme-motors"],
        "luxe": orgs["luxe-house"],
        "reader": orgs[READER],
        "group": groups["automotive-parts"],
    }


def fill(conninfo: str, changes: int) -> int:
    rows = changes + changes // 19  # one row in twenty is hidden from the reader
    with psycopg.connect(conninfo) as conn:
        conn.execute("DELETE FROM change_log")  # the demo's own rows: a log of bench rows only
        conn.execute(FILL, ids(conninfo) | {"rows": rows})
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE change_log")
    return rows


async def feed_sql(url: str, reader: str, limit: int) -> str:
    """The query the server runs for the reader's first page of ``limit`` lines."""
    from alliance.auth.principal import Principal
    from alliance.db import make_engine, make_sessionmaker
    from alliance.sharing.service import load_viewer
    from alliance.sync import feed

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            import uuid

            principal = Principal(
                uuid.UUID(reader), READER, "bench", "bench", frozenset({"sync:read"}), "bench"
            )
            viewer = await load_viewer(session, principal)
    finally:
        await engine.dispose()
    return feed.postgres_feed_sql(viewer, after=0, limit=limit, kinds=None, group_ids=None)


def timed_copy(conninfo: str, sql: str) -> tuple[int, float, int]:
    """(lines, seconds, bytes) of ``COPY (sql) TO STDOUT`` read through psycopg."""
    from alliance.sync.feed import COPY_OPTIONS

    options = "FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01'"
    assert COPY_OPTIONS == {"format": "csv", "delimiter": "\x02", "quote": "\x01"}
    lines = size = 0
    with psycopg.connect(conninfo) as conn, conn.cursor() as cursor:
        started = time.perf_counter()
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH ({options})") as copy:
            for block in copy:
                lines += bytes(block).count(b"\n")
                size += len(block)
        return lines, time.perf_counter() - started, size


def catch_up(base: str, token: str, page: int) -> tuple[int, float, int, int]:
    """(change lines, seconds, bytes, requests) following the feed from its start."""
    lines = size = requests = 0
    cursor: str | None = None
    with httpx.Client(base_url=base, timeout=600) as client:
        started = time.perf_counter()
        while True:
            params = {"limit": str(page)} | ({"after": cursor} if cursor else {})
            tail = b""
            with client.stream(
                "GET", "/v1/changes", params=params, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                response.raise_for_status()
                for chunk in response.iter_raw(1 << 20):
                    lines += chunk.count(b"\n")
                    size += len(chunk)
                    tail = (tail + chunk)[-4096:]
            requests += 1
            end = json.loads(tail.rstrip(b"\n").rsplit(b"\n", 1)[-1])
            lines -= 1  # the end line
            cursor = end["cursor"]
            if not end["hasMore"]:
                break
        return lines, time.perf_counter() - started, size, requests


def wait_healthy(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=1_000_000)
    parser.add_argument("--page", type=int, default=100_000)
    args = parser.parse_args()
    pg = os.environ.get("ALLIANCE_BENCH_DATABASE_URL") or os.environ.get(
        "ALLIANCE_TEST_DATABASE_URL"
    )
    if not pg:
        print("change_feed skipped: set ALLIANCE_BENCH_DATABASE_URL to a PostgreSQL server")
        return
    base_url = normalise_database_url(pg)
    url, name = asyncio.run(scratch_postgres(base_url))
    conninfo = url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cwd = Path(tmp)
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
            env.update(
                ALLIANCE_DATABASE_URL=conninfo,
                ALLIANCE_PORT=str(port),
                ALLIANCE_LOG_LEVEL="WARNING",
                ALLIANCE_RATELIMIT_ENABLED="false",
            )
            alliance(env, cwd, "db", "upgrade")
            alliance(env, cwd, "demo")
            started = time.perf_counter()
            rows = fill(conninfo, args.changes)
            print(f"filled change_log with {rows:,} rows in {time.perf_counter() - started:.1f}s")
            token = alliance(
                env, cwd, "token", "issue", "--org", READER, "--scopes", "sync:read"
            ).strip()
            reader = ids(conninfo)["reader"]
            sql = asyncio.run(feed_sql(url, reader, rows))
            server = subprocess.Popen(
                [sys.executable, "-m", "alliance.cli", "serve", "--no-worker"],
                env=env,
                cwd=cwd,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                base = f"http://127.0.0.1:{port}"
                wait_healthy(base)
                # Warm the server (its first request builds its pools) and the page cache.
                httpx.get(
                    f"{base}/v1/changes?limit=10",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=60,
                ).raise_for_status()
                timed_copy(conninfo, sql)
                got, feed_s, feed_bytes, requests = catch_up(base, token, args.page)
            finally:
                server.terminate()
                server.wait(timeout=30)
        copied, copy_s, copy_bytes = timed_copy(conninfo, sql)
        rest = re.split(r"\sFROM change_log\s", sql, maxsplit=1)[1]
        bare, bare_s, _ = timed_copy(conninfo, f"SELECT * FROM change_log {rest}")
    finally:
        asyncio.run(drop_postgres(base_url, name))
    feed_rate, copy_rate, bare_rate = got / feed_s, copied / copy_s, bare / bare_s
    print(
        f"feed over HTTP   {got:,} changes in {feed_s:.2f}s ({requests} requests of up to "
        f"{args.page:,}, {feed_bytes / 1e6:,.0f} MB): {feed_rate:,.0f} changes/s"
    )
    print(
        f"COPY, same lines {copied:,} rows in {copy_s:.2f}s ({copy_bytes / 1e6:,.0f} MB): "
        f"{copy_rate:,.0f} rows/s   ratio {feed_rate / copy_rate:.2f}"
    )
    print(
        f"COPY, bare rows  {bare:,} rows in {bare_s:.2f}s: {bare_rate:,.0f} rows/s   "
        f"ratio {feed_rate / bare_rate:.2f}"
    )
    assert got == copied, f"the feed sent {got:,} changes, COPY {copied:,}"
    ok = feed_rate >= GOAL_RATE and feed_rate >= GOAL_RATIO * copy_rate
    print(
        f"goal (>= {GOAL_RATE:,}/s and >= {GOAL_RATIO} x COPY of the same lines): "
        f"{'met' if ok else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
