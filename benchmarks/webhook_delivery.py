"""A receiver catching up: changes/s a webhook subscription delivers to a local HTTP receiver
(signed batches, every attempt logged), one worker draining its backlog.

Makes a scratch database (migrate, the demo alliance), subscribes Acme Motors, records
``--changes`` changes of which one in five Acme may not see (another organisation's
ORGANISATION objects), then times :func:`alliance.webhooks.dispatcher.drain` to the end.

    python -m benchmarks.webhook_delivery [--changes 5000] [--batch 100]

SQLite by default; PostgreSQL when ALLIANCE_BENCH_DATABASE_URL names a server (a scratch
database is created there and dropped afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from alliance import migrate
from alliance.auth.principal import Principal
from alliance.changelog.models import Operation
from alliance.changelog.service import record_change
from alliance.config import WebhookSettings, normalise_database_url
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.demo import seed
from alliance.orgs import repository as orgs_repo
from alliance.outbound import OutboundPolicy
from alliance.sharing import TLP, Distribution
from alliance.webhooks import dispatcher, service
from benchmarks.changelog_writes import drop_postgres, scratch_postgres


class Counter:
    def __init__(self) -> None:
        self.requests = 0
        self.changes = 0


def start_receiver(counter: Counter) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            counter.requests += 1
            counter.changes += len(json.loads(body)["changes"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hook"


async def run(url: str, changes: int, batch: int) -> None:
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url, pool_size=4)
    sessions = make_sessionmaker(engine, job_sender=None)
    counter = Counter()
    server, hook = start_receiver(counter)
    try:
        async with unit_of_work(sessions) as s:
            await seed(s)
        async with sessions() as s:
            acme = await orgs_repo.organisation_by_slug(s, "acme-motors")
            luxe = await orgs_repo.organisation_by_slug(s, "luxe-house")
        assert acme is not None
        assert luxe is not None
        principal = Principal(
            acme.id, acme.slug, "bench", "bench", frozenset({"webhooks:manage"}), "b"
        )
        async with unit_of_work(sessions) as s:
            sub = (
                await service.create_subscription(
                    s,
                    principal,
                    service.SubscriptionData(url=hook),
                    settings=WebhookSettings(),
                    allow_private_hosts=True,
                )
            ).subscription
        visible = 0
        for start in range(0, changes, 1000):
            async with unit_of_work(sessions) as s:
                for n in range(start, min(changes, start + 1000)):
                    hidden = n % 5 == 0
                    visible += not hidden
                    record_change(
                        s,
                        kind="rule",
                        object_id=uuid.uuid4(),
                        version=1,
                        operation=Operation.CREATE,
                        distribution=Distribution.ORGANISATION if hidden else Distribution.ALLIANCE,
                        tlp=TLP.GREEN,
                        owner_org_id=luxe.id if hidden else acme.id,
                    )
        config = dispatcher.DispatchConfig(
            policy=OutboundPolicy(allow_private_hosts=True), batch_size=batch
        )
        t0 = time.perf_counter()
        while True:
            outcome = await dispatcher.drain(sessions, sub.id, config, max_batches=10_000)
            if outcome.result == dispatcher.Result.IDLE:
                break
            assert outcome.result == dispatcher.Result.DELIVERED, outcome
        elapsed = time.perf_counter() - t0
        assert counter.changes == visible, (counter.changes, visible)
        print(
            f"{engine.dialect.name:<10} {visible} changes in {counter.requests} deliveries of "
            f"<= {batch}: {elapsed:.2f} s, {visible / elapsed:,.0f} changes/s, "
            f"{counter.requests / elapsed:,.1f} deliveries/s "
            f"({elapsed / counter.requests * 1000:.1f} ms per delivery: cut, POST, record)"
        )
    finally:
        server.shutdown()
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    base = os.environ.get("ALLIANCE_BENCH_DATABASE_URL")
    if base:
        pg = normalise_database_url(base)
        url, name = await scratch_postgres(pg)
        try:
            await run(url, args.changes, args.batch)
        finally:
            await drop_postgres(pg, name)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            await run(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", args.changes, args.batch)


if __name__ == "__main__":
    asyncio.run(main())
