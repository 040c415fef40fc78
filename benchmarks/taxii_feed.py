"""TAXII 2.1 reads: objects/s through our ``/taxii2/`` objects endpoint and through the OASIS
reference server ``medallion`` (memory backend) holding the same objects.

Makes a fresh embedded instance in a temporary directory (migrate, the demo directory, then
``--indicators`` indicators submitted through the indicators service into one working
group), starts ``alliance serve --no-worker`` in its own process, and reads the group's
collection with ``taxii2-client`` paging at the servers' maximum page size (1000). The objects
read are then loaded into medallion's memory backend (run in its own process), read the same
way, at each size up to ``--medallion-max`` (medallion's paging is quadratic in the
collection's size: it copies and filters the whole collection on each first page).

    python -m benchmarks.taxii_feed [--indicators 4000 20000] [--medallion-max 4000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from taxii2client.v21 import Collection, Server, as_pages

PAGE = 1000
TAXII = "application/taxii+json;version=2.1"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def alliance(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "alliance.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return done.stdout


async def seed(url: str, count: int, offset: int) -> None:
    """``count`` more domain indicators by acme-motors in automotive-parts."""
    from alliance.db import make_engine, make_sessionmaker, unit_of_work
    from alliance.indicators import service
    from alliance.orgs import repository as orgs_repo

    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        for start in range(offset, offset + count, 1000):
            async with unit_of_work(sessions) as session:
                org = await orgs_repo.organisation_by_slug(session, "acme-motors")
                group = await orgs_repo.working_group_by_slug(session, "automotive-parts")
                assert org is not None
                assert group is not None
                viewer = await service.viewer_of_organisation(session, org.id)
                items = [
                    service.Submission(
                        type="domain",
                        value=f"fake-parts-{n}.example",
                        working_group_id=group.id,
                        confidence=60 + n % 40,
                        tags=("benchmark",),
                    )
                    for n in range(start, min(start + 1000, offset + count))
                ]
                results = await service.submit(session, viewer, items)
                assert all(r.error is None for r in results)
    finally:
        await engine.dispose()


def read_all(collection: Collection) -> tuple[list[dict[str, Any]], float]:
    collection.get_objects(limit=1)  # warm up: connections, caches, first-request work
    started = time.perf_counter()
    objects: list[dict[str, Any]] = []
    for envelope in as_pages(collection.get_objects, per_request=PAGE):
        objects += envelope.get("objects", [])
    return objects, time.perf_counter() - started


def wait_for(url: str, **kwargs: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=5, **kwargs)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def read_ours(base: str, token: str) -> tuple[list[dict[str, Any]], float]:
    server = Server(f"{base}/taxii2/", auth=BearerAuth(token))
    [group] = [c for c in server.api_roots[0].collections if c.title == "automotive-parts"]
    return read_all(group)


def read_medallion(tmp: Path, objects: list[dict[str, Any]]) -> float:
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def added(n: int) -> str:
        # Distinct, increasing, as objects added one after another would get.
        return f"2026-12-01T{n // 3_600_000_000 % 24:02d}:{n // 60_000_000 % 60:02d}:" + (
            f"{n // 1_000_000 % 60:02d}.{n % 1_000_000:06d}Z"
        )

    collection = {
        "id": "91a7b528-80eb-42ed-a74d-c6fbd5a26116",
        "title": "automotive-parts",
        "can_read": True,
        "can_write": True,
        "media_types": ["application/stix+json;version=2.1"],
        "objects": objects,
        "manifest": [
            {
                "id": o["id"],
                "date_added": added(n * 1000),
                "version": o.get("modified", o.get("created")),
                "media_type": "application/stix+json;version=2.1",
            }
            for n, o in enumerate(objects)
        ],
    }
    data = {
        "/discovery": {
            "title": "medallion",
            "default": f"{base}/api1/",
            "api_roots": [f"{base}/api1/"],
        },
        "api1": {
            "information": {
                "title": "api1",
                "versions": [TAXII],
                "max_content_length": 100_000_000,
            },
            "status": [],
            "collections": [collection],
        },
    }
    data_file = tmp / f"medallion-{len(objects)}.json"
    data_file.write_text(json.dumps(data))
    config = tmp / "medallion.json"
    config.write_text(
        json.dumps(
            {
                "backend": {
                    "module_class": "MemoryBackend",
                    "module": "medallion.backends.memory_backend",
                    "filename": str(data_file),
                    # Its paging sessions expire after 30 s by default: longer than a page
                    # of a large collection takes it.
                    "session_timeout": 3600,
                },
                "users": {"bench": "bench"},
                "taxii": {"max_page_size": PAGE},
            }
        )
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "medallion.scripts.run", "--port", str(port), str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"{base}/taxii2/")
        server = Server(f"{base}/taxii2/", user="bench", password="bench")
        [found] = server.api_roots[0].collections
        read, elapsed = read_all(found)
        assert len(read) == len(objects), (len(read), len(objects))
        return elapsed
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indicators", type=int, nargs="+", default=[4000, 20_000])
    parser.add_argument("--medallion-max", type=int, default=4000)
    args = parser.parse_args()
    sizes = sorted(args.indicators)
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
        env.update(
            ALLIANCE_DATA_DIR=str(cwd / "var"),
            ALLIANCE_PORT=str(port),
            ALLIANCE_LOG_LEVEL="WARNING",
            ALLIANCE_RATELIMIT_ENABLED="false",
        )
        alliance(env, cwd, "db", "upgrade")
        alliance(env, cwd, "demo")
        url = f"sqlite+aiosqlite:///{cwd / 'var' / 'alliance.db'}"
        token = alliance(
            env, cwd, "token", "issue", "--org", "acme-motors", "--scopes", "indicators:read"
        ).strip()
        seeded = 0
        for size in sizes:
            asyncio.run(seed(url, size - seeded, seeded))
            seeded = size
            server = subprocess.Popen(
                [sys.executable, "-m", "alliance.cli", "serve", "--no-worker"],
                env=env,
                cwd=cwd,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                base = f"http://127.0.0.1:{port}"
                wait_for(f"{base}/healthz")
                objects, ours = read_ours(base, token)
            finally:
                server.terminate()
                server.wait(timeout=30)
            indicators = sum(1 for o in objects if o["type"] == "indicator")
            line = (
                f"indicators {indicators:>7,}  objects {len(objects):>7,}  "
                f"alliance /taxii2/ {len(objects) / ours:>8,.0f} objects/s"
            )
            if len(objects) <= args.medallion_max * 1.1:
                # medallion reads an extension definition's own ``version`` (its semver) as
                # the object's version and fails on it: it gets every other object.
                served = [o for o in objects if o["type"] != "extension-definition"]
                theirs = read_medallion(cwd, served)
                line += (
                    f"  medallion (memory) {len(served) / theirs:>6,.0f} objects/s"
                    f"  ratio {(len(objects) / ours) / (len(served) / theirs):,.1f}x"
                )
            print(line, flush=True)


if __name__ == "__main__":
    main()
