"""The newcomer's path, end to end: migrate, seed, serve with the embedded worker, query over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

QUERY = "{ workingGroups(first: 10) { totalCount edges { node { slug } } } }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def alliance(env: dict[str, str], cwd: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "alliance.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_fresh_instance_serves_the_demo_alliance_with_background_work(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
    env.update(
        ALLIANCE_PORT=str(port), ALLIANCE_WORKER_HEARTBEAT_SECONDS="1", ALLIANCE_LOG_FORMAT="json"
    )
    alliance(env, tmp_path, "db", "upgrade")
    alliance(env, tmp_path, "demo")
    token = alliance(
        env, tmp_path, "token", "issue", "--org", "alliance-office", "--scopes", "admin"
    ).strip()
    server = subprocess.Popen(
        [sys.executable, "-m", "alliance.cli", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=5) as client:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            answer = client.post(
                "/graphql", json={"query": QUERY}, headers={"Authorization": f"Bearer {token}"}
            )
            anonymous = client.post("/graphql", json={"query": QUERY})
            ready: dict = {}
            while time.monotonic() < deadline:
                ready = client.get("/readyz").json()
                if ready["checks"]["database"].get("worker_heartbeat_age_seconds") is not None:
                    break
                time.sleep(0.3)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode(errors="replace")
    data = answer.json()["data"]["workingGroups"]
    assert data["totalCount"] == 3
    assert {e["node"]["slug"] for e in data["edges"]} == {
        "automotive-parts",
        "luxury-goods",
        "consumer-electronics",
    }
    assert anonymous.json()["data"] is None
    assert ready["status"] == "ready"
    assert ready["checks"]["database"]["worker_heartbeat_age_seconds"] is not None, (
        f"the embedded worker and beat never ran the heartbeat; server said:\n{output[-3000:]}"
    )
    assert (tmp_path / "var" / "alliance.db").exists()
    assert (tmp_path / "var" / "keys" / "signing-key.pem").exists()
