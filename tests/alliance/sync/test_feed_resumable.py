"""A consumer of GET /v1/changes that pages with small limits and resumes from its last cursor
gets every committed change it may see exactly once, in order, while writers commit (and
roll back) concurrently. PostgreSQL: real concurrent transactions against a real uvicorn."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from alliance.changelog import service as changelog
from alliance.changelog.models import Operation
from alliance.db import unit_of_work
from alliance.sharing import TLP, Distribution
from tests.alliance.sync.live import live_server
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="concurrent writers: PostgreSQL only")
KIND = "resume.test"
WRITERS, TRANSACTIONS = 6, 20


class Abandoned(Exception):
    pass


async def test_a_resuming_consumer_gets_every_visible_change_once_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with live_server("postgresql", tmp_path, monkeypatch, pool_size=WRITERS + 4) as live:
        acme = live.orgs["acme-motors"].id
        token = live.token("luxe-house", "sync:read")
        visible: set[str] = set()
        hidden: set[str] = set()
        done = asyncio.Event()

        async def writer(n: int) -> None:
            rng = random.Random(n)
            for t in range(TRANSACTIONS):
                rows = []
                for i in range(rng.randint(1, 3)):
                    shown = rng.random() < 0.7
                    rows.append((f"w{n}-t{t}-{i}", shown))
                abandon = rng.random() < 0.15
                try:
                    async with unit_of_work(live.sessions) as s:
                        for object_id, shown in rows:
                            changelog.record_change(
                                s,
                                kind=KIND,
                                object_id=object_id,
                                version=1,
                                operation=Operation.CREATE,
                                distribution=(
                                    Distribution.ALLIANCE if shown else Distribution.ORGANISATION
                                ),
                                tlp=TLP.GREEN if shown else TLP.RED,
                                owner_org_id=acme,
                            )
                        # Hold a sequence number a random while, so commits could land out
                        # of order if the log let them.
                        await changelog.write_pending_changes(s)
                        await asyncio.sleep(rng.random() * 0.02)
                        if abandon:
                            raise Abandoned
                except Abandoned:
                    hidden.update(object_id for object_id, _ in rows)
                    continue
                visible.update(o for o, shown in rows if shown)
                hidden.update(o for o, shown in rows if not shown)

        received: list[dict[str, Any]] = []
        pages = 0

        async def consumer() -> None:
            nonlocal pages
            rng = random.Random(99)
            cursor: str | None = None
            while True:
                finished = done.is_set()
                # A fresh client now and then: the consumer restarts from its stored cursor.
                async with httpx.AsyncClient(base_url=live.http, timeout=30) as client:
                    for _ in range(rng.randint(1, 4)):
                        params: dict[str, Any] = {"kinds": KIND, "limit": rng.randint(1, 7)}
                        if cursor is not None:
                            params["after"] = cursor
                        response = await client.get(
                            "/v1/changes",
                            params=params,
                            headers={"Authorization": f"Bearer {token}"},
                        )
                        assert response.status_code == 200, response.text
                        *lines, end = [json.loads(x) for x in response.text.splitlines()]
                        received.extend(lines)
                        cursor, pages = end["cursor"], pages + 1
                        if not end["hasMore"]:
                            break
                    else:
                        continue
                if finished:
                    return
                await asyncio.sleep(0.005)

        reading = asyncio.create_task(consumer())
        await asyncio.gather(*(writer(n) for n in range(WRITERS)))
        done.set()
        await reading

    ids = [line["id"] for line in received]
    seqs = [line["seq"] for line in received]
    assert seqs == sorted(set(seqs)), "out of order, or a change seen twice"
    assert len(ids) == len(set(ids))
    assert set(ids) == visible, "a committed change was missed, or a hidden one leaked"
    assert not set(ids) & hidden
    assert pages > len(received) // 7


async def test_a_consumer_dropping_mid_stream_leaves_the_server_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The COPY is abandoned half-way; its connection goes back to the pool usable or not at
    all, and every later request is answered."""
    async with live_server("postgresql", tmp_path, monkeypatch, pool_size=1) as live:
        acme = live.orgs["acme-motors"].id
        async with unit_of_work(live.sessions) as s:
            for i in range(6000):
                changelog.record_change(
                    s,
                    kind=KIND,
                    object_id=f"bulk-{i}",
                    version=1,
                    operation=Operation.CREATE,
                    distribution=Distribution.ALLIANCE,
                    tlp=TLP.GREEN,
                    owner_org_id=acme,
                )
        headers = {"Authorization": f"Bearer {live.token('luxe-house', 'sync:read')}"}
        params = {"kinds": KIND, "limit": "6000"}
        for _ in range(3):
            async with (
                httpx.AsyncClient(base_url=live.http, timeout=30) as client,
                client.stream("GET", "/v1/changes", params=params, headers=headers) as response,
            ):
                assert response.status_code == 200
                async for _chunk in response.aiter_raw():
                    break  # and hang up
        async with httpx.AsyncClient(base_url=live.http, timeout=30) as client:
            for _ in range(3):
                response = await client.get("/v1/changes", params=params, headers=headers)
                assert response.status_code == 200
                *lines, end = response.text.splitlines()
                assert len(lines) == 6000
                assert json.loads(end)["hasMore"] is False
