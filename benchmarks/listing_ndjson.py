"""POST /v1/listings/check end to end: listings/s from a client process to a real server.

Makes a fresh embedded instance in a temporary directory (migrate, ``alliance demo``: the
demo rules, indicators and allowlists), starts ``alliance serve --no-worker`` in its own
process, and streams ``--listings`` listings (the demo catalogue, repeated with distinct
refs and sellers) as NDJSON from this process, reading the answers as they stream back.

    python -m benchmarks.listing_ndjson [--listings 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx

from alliance.listings.demo import catalogue_text


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def alliance(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "alliance.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return done.stdout


def body(listings: int) -> Iterator[bytes]:
    base = [json.loads(line) for line in catalogue_text().splitlines()]
    chunk: list[str] = []
    for n in range(listings):
        item = dict(base[n % len(base)])
        item["ref"] = f"B-{n}"
        if n % len(base) not in (1,):  # keep the authorised seller as it is
            item.setdefault("sellerId", f"seller-{n % 5000}")
        chunk.append(json.dumps(item))
        if len(chunk) == 500:
            yield ("\n".join(chunk) + "\n").encode()
            chunk = []
    if chunk:
        yield ("\n".join(chunk) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
        env.update(
            ALLIANCE_PORT=str(port),
            ALLIANCE_LOG_LEVEL="WARNING",
            ALLIANCE_RATELIMIT_ENABLED="false",
        )
        alliance(env, cwd, "db", "upgrade")
        alliance(env, cwd, "demo")
        token = alliance(
            env, cwd, "token", "issue", "--org", "shopmart", "--scopes", "listings:check"
        ).strip()
        server = subprocess.Popen(
            [sys.executable, "-m", "alliance.cli", "serve", "--no-worker"],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=120) as client:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    try:
                        if client.get("/healthz").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.2)
                verdicts: Counter[str] = Counter()
                started = time.perf_counter()
                with client.stream(
                    "POST",
                    "/v1/listings/check",
                    content=body(args.listings),
                    headers={
                        "Authorization": f"Bearer {token}",
                        "content-type": "application/x-ndjson",
                    },
                ) as response:
                    response.raise_for_status()
                    for line in response.iter_lines():
                        if line:
                            answer = json.loads(line)
                            verdicts[answer.get("verdict", "ERROR")] += 1
                elapsed = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=30)
    answered = sum(verdicts.values())
    print(
        f"listings {args.listings:,}  answered {answered:,}  {answered / elapsed:,.0f} listings/s "
        f"end to end (one client process, one server process)  verdicts {dict(verdicts)}"
    )


if __name__ == "__main__":
    main()
