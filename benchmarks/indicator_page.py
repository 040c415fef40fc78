"""A page of 100 indicators with their assertions and reactions, through the GraphQL schema
(the ASGI app in process, a bearer token, the sharing policy in every query), with N
indicators in the database.

    python -m benchmarks.indicator_page [--indicators 100000] [--requests 60]
    python -m benchmarks.indicator_page --indicators 1000000     # the goal: p50 < 15 ms

The data is seeded set-based (INSERT … SELECT over a generated series): one assertion per
indicator (a third shared ALLIANCE, the rest WORKING_GROUP in automotive-parts), a second
assertion by another organisation on one in five, a SEEN_TOO reaction on one in four. The
reader is city-police (a member of automotive-parts). Pages are walked by cursor, so each
request reads rows the previous one did not.

Beside the end-to-end figures it prints the two floors a page stands on: the time its SQL
statements take (timed at the driver, per request), and graphql-core alone executing the
same document over the same result already in memory (plain dicts, default resolvers, no
database, no Strawberry): no resolver code can make a page cheaper than their sum.

PostgreSQL is measured when ALLIANCE_BENCH_DATABASE_URL (or ALLIANCE_TEST_DATABASE_URL)
names a server (a scratch database is made there and dropped afterwards); SQLite always,
unless --only says otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from graphql import build_schema, execute, parse
from sqlalchemy import bindparam, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.types import Uuid

from alliance import migrate
from alliance.auth.tokens import TokenGrant, issue_access_token
from alliance.config import load_settings, normalise_database_url
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.demo import seed
from alliance.frames import with_frame_room
from alliance.orgs import repository as orgs_repo
from benchmarks._jobs import NoBroker
from benchmarks.changelog_writes import drop_postgres, scratch_postgres

PAGE = """
query ($after: String) {
  indicators(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node {
      id type value status score confidence organisationsAsserting
      assertions(first: 5) { totalCount edges { node {
        id confidence severity status tlp distribution organisation { slug }
        reactions(first: 5) { totalCount edges { node { kind organisation { slug } } } }
      } } }
    } }
  }
}
"""

_PG = {
    "id": "gen_random_uuid()",
    "series": "SELECT g AS n FROM generate_series(1, :n) AS g",
    "now": "now()",
    "digest": "encode(sha256(('keyword:bench ' || n)::bytea), 'hex')",
}
_SQLITE = {
    "id": "lower(hex(randomblob(16)))",
    "series": "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :n) "
    "SELECT n FROM s",
    "now": "strftime('%Y-%m-%d %H:%M:%S', 'now') || '.000000'",
    "digest": "lower(hex(randomblob(32)))",
}


def _statements(sql: dict[str, str]) -> list[str]:
    now = sql["now"]
    return [
        f"""INSERT INTO indicators (id, type, value, value_digest, details, version,
               created_at, updated_at)
            SELECT {sql["id"]}, 'keyword', 'bench ' || n, {sql["digest"]}, '{{}}', 1, {now}, {now}
            FROM ({sql["series"]}) AS series""",
        # one assertion each, by acme-motors
        f"""INSERT INTO indicator_assertions (id, indicator_id, owner_org_id, working_group_id,
               distribution, tlp, confidence, severity, brands, note, tags, evidence_links,
               details, status, first_seen_at, last_seen_at, score, version, created_at,
               updated_at)
            SELECT {sql["id"]}, i.id, :acme, :group,
               CASE WHEN i.version + length(i.value) % 3 = 1 THEN 'ALLIANCE' ELSE 'WORKING_GROUP' END,
               'AMBER', 70, 'HIGH', '["acme"]', '', '["bench"]', '[]', '{{}}', 'ACTIVE',
               {now}, {now}, 70.0, 1, {now}, {now}
            FROM indicators AS i""",
        # a second assertion on one in five, by volt-electronics, shared ALLIANCE
        f"""INSERT INTO indicator_assertions (id, indicator_id, owner_org_id, working_group_id,
               distribution, tlp, confidence, severity, brands, note, tags, evidence_links,
               details, status, first_seen_at, last_seen_at, score, version, created_at,
               updated_at)
            SELECT {sql["id"]}, i.id, :volt, NULL, 'ALLIANCE', 'GREEN', 55, 'MEDIUM', '[]', '',
               '[]', '[]', '{{}}', 'ACTIVE', {now}, {now}, 55.0, 1, {now}, {now}
            FROM indicators AS i WHERE substr(i.value_digest, 1, 1) IN ('0', '1', '2')""",
        # a SEEN_TOO reaction on about one assertion in four, by shopmart
        f"""INSERT INTO indicator_reactions (id, assertion_id, indicator_id, owner_org_id,
               working_group_id, distribution, tlp, kind, platform, count, version, created_at,
               updated_at)
            SELECT {sql["id"]}, a.id, a.indicator_id, :shopmart, a.working_group_id,
               a.distribution, a.tlp, 'SEEN_TOO', 'shopee', 3, 1, {now}, {now}
            FROM indicator_assertions AS a
            WHERE substr(a.indicator_id || '', 3, 1) IN ('0', '4', '8', 'c')""",
    ]


async def seed_indicators(url: str, count: int) -> dict[str, Any]:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    async with unit_of_work(sessions) as s:
        await seed(s)
    async with sessions() as s:
        orgs = {
            slug: await orgs_repo.organisation_by_slug(s, slug)
            for slug in ("acme-motors", "volt-electronics", "shopmart", "city-police")
        }
        group = await orgs_repo.working_group_by_slug(s, "automotive-parts")
    assert group is not None
    sql = _PG if engine.dialect.name == "postgresql" else _SQLITE
    started = time.perf_counter()
    async with engine.begin() as conn:
        values = {
            "acme": orgs["acme-motors"].id,  # type: ignore[union-attr]
            "volt": orgs["volt-electronics"].id,  # type: ignore[union-attr]
            "shopmart": orgs["shopmart"].id,  # type: ignore[union-attr]
            "group": group.id,
        }
        for statement in _statements(sql):
            used = {k: v for k, v in values.items() if f":{k}" in statement}
            stmt = text(statement).bindparams(*(bindparam(k, type_=Uuid()) for k in used))
            await conn.execute(stmt, {**used, **({"n": count} if ":n" in statement else {})})
        await conn.execute(text("ANALYZE"))
    seeded = time.perf_counter() - started
    async with engine.connect() as conn:
        counts = {
            table: (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
            for table in ("indicators", "indicator_assertions", "indicator_reactions")
        }
    await engine.dispose()
    return {"seconds": seeded, "counts": counts, "reader": orgs["city-police"]}


class StatementClock:
    """Seconds spent in SQL statements (cursor execute, timed at the driver) since reset."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started: list[float] = []

    def __enter__(self) -> StatementClock:
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(Engine, "before_cursor_execute", self._before)
        event.remove(Engine, "after_cursor_execute", self._after)

    def _before(self, *_args: Any) -> None:
        self._started.append(time.perf_counter())

    def _after(self, *_args: Any) -> None:
        self.seconds += time.perf_counter() - self._started.pop()

    def reset(self) -> None:
        self.seconds = 0.0


def executor_floor(sdl: str, pages: list[tuple[dict[str, Any], Any]], runs: int) -> list[float]:
    """Milliseconds graphql-core alone takes to execute PAGE over each page's result, held as
    plain dicts read by its default resolvers (no database, no Strawberry, no resolver), with
    frame-stack room (see ``alliance.frames``) so that the floor is not noise."""
    schema = build_schema(sdl)
    document = parse(PAGE)

    def run() -> list[float]:
        timings: list[float] = []
        for n in range(runs):
            data, after = pages[n % len(pages)]
            started = time.perf_counter()
            result = execute(schema, document, root_value=data, variable_values={"after": after})
            timings.append((time.perf_counter() - started) * 1000)
            assert not result.errors, result.errors  # type: ignore[union-attr]
            assert result.data == data  # type: ignore[union-attr]
        return timings

    return with_frame_room(run)


async def time_pages(
    url: str, data_dir: Path, reader: Any, requests: int
) -> tuple[list[float], list[float], list[float]]:
    """Per request: milliseconds end to end, in SQL, and graphql-core's floor over its page."""
    from alliance.app import create_app

    os.environ.update(
        ALLIANCE_DATABASE_URL=url,
        ALLIANCE_DATA_DIR=str(data_dir),
        ALLIANCE_RATELIMIT_ENABLED="false",
        ALLIANCE_LOG_LEVEL="WARNING",
        ALLIANCE_EMBEDDED_WORKER="false",
    )
    settings = load_settings()

    app = create_app(settings, job_sender=NoBroker())
    timings: list[float] = []
    sql: list[float] = []
    pages: list[tuple[dict[str, Any], Any]] = []
    async with app.router.lifespan_context(app):
        grant = TokenGrant(
            subject=f"bench:{reader.slug}",
            client_id="bench",
            organisation_id=reader.id,
            organisation_slug=reader.slug,
            scopes=("indicators:read",),
        )
        token, _ = issue_access_token(
            app.state.keys,
            grant,
            issuer=settings.base_url,
            audience=settings.token_audience,
            ttl_seconds=3600,
        )
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        with StatementClock() as clock:
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                after = None
                for n in range(requests + 5):
                    clock.reset()
                    started = time.perf_counter()
                    response = await client.post(
                        "/graphql",
                        json={"query": PAGE, "variables": {"after": after}},
                        headers=headers,
                    )
                    elapsed = time.perf_counter() - started
                    body = response.json()
                    assert "errors" not in body, body
                    page = body["data"]["indicators"]
                    assert len(page["edges"]) == 100, len(page["edges"])
                    if n >= 5:  # the first few warm the caches and the pool
                        timings.append(elapsed * 1000)
                        sql.append(clock.seconds * 1000)
                        pages.append((body["data"], after))
                    after = (
                        page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
                    )
    from schema.schema import export_sdl

    return timings, sql, executor_floor(export_sdl(), pages, len(pages))


async def measure(label: str, url: str, indicators: int, requests: int) -> None:
    await asyncio.to_thread(migrate.upgrade, url)
    seeded = await seed_indicators(url, indicators)
    with tempfile.TemporaryDirectory() as tmp:
        timings, sql, floor = await time_pages(url, Path(tmp), seeded["reader"], requests)
    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    sql_p50, floor_p50 = statistics.median(sql), statistics.median(floor)
    print(
        f"{label:<11} seeded {seeded['counts']} in {seeded['seconds']:.1f}s\n"
        f"{'':<11} page of 100 with assertions and reactions, {len(timings)} requests: "
        f"p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   (goal p50 < 15 ms: "
        f"{'met' if p50 < 15 else 'not met'})\n"
        f"{'':<11} floors: SQL p50 {sql_p50:6.1f} ms; graphql-core alone over the same page in "
        f"memory p50 {floor_p50:6.1f} ms; together {sql_p50 + floor_p50:6.1f} ms "
        f"(the rest, {p50 - sql_p50 - floor_p50:.1f} ms, is Strawberry, the resolvers, "
        "the token and HTTP)",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indicators", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--only", choices=("sqlite", "postgresql"), default=None)
    args = parser.parse_args()
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            await measure(
                "sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db", args.indicators, args.requests
            )
    if args.only in (None, "postgresql"):
        pg = os.environ.get("ALLIANCE_BENCH_DATABASE_URL") or os.environ.get(
            "ALLIANCE_TEST_DATABASE_URL"
        )
        if not pg:
            print("postgresql  skipped: set ALLIANCE_BENCH_DATABASE_URL to measure it")
            return
        base = normalise_database_url(pg)
        url, name = await scratch_postgres(base)
        try:
            await measure("postgresql", url, args.indicators, args.requests)
        finally:
            await drop_postgres(base, name)


if __name__ == "__main__":
    # As ``alliance serve`` runs its event loop: above room on the frame stack.
    with_frame_room(lambda: asyncio.run(main()))
