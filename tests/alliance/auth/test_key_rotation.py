"""Rotating the signing key: a new current key, retired keys published until their tokens die."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from alliance.auth.keys import (
    RETIRED_KEY_RETENTION_SECONDS,
    KeyRotationError,
    ReloadingKeyRing,
    generate_key,
    load_key_ring,
    rotate_signing_key,
)
from alliance.auth.tokens import InvalidToken, TokenGrant, issue_access_token, verify_access_token

ISSUER = AUDIENCE = "https://alliance.example"
GRANT = TokenGrant(
    subject="cl_x",
    client_id="cl_x",
    organisation_id=uuid.uuid4(),
    organisation_slug="shopmart",
    scopes=("indicators:read",),
)


def issue(keys: Any, ttl: int = 600, now: int | None = None) -> str:
    token, _ = issue_access_token(
        keys, GRANT, issuer=ISSUER, audience=AUDIENCE, ttl_seconds=ttl, now=now
    )
    return token


def test_rotation_keeps_the_retired_key_for_verification(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "signing-key.pem"
    before = load_key_ring(pem=None, key_file=key_file)
    old_token = issue(before)

    rotation = rotate_signing_key(pem=None, key_file=key_file)

    after = load_key_ring(pem=None, key_file=key_file)
    assert rotation.retired_kid == before.kid
    assert rotation.new_kid == after.kid != before.kid
    assert set(rotation.published_kids) == {before.kid, after.kid}
    assert {k["kid"] for k in after.public_jwks()["keys"]} == {before.kid, after.kid}
    assert all("d" not in k for k in after.public_jwks()["keys"])
    assert verify_access_token(after, old_token, issuer=ISSUER, audience=AUDIENCE)["sub"] == "cl_x"
    new_header = issue(after).split(".")[0]
    assert json.loads(base64.urlsafe_b64decode(new_header + "=="))["kid"] == after.kid
    assert (key_file.stat().st_mode & 0o777) == 0o600


def test_a_retired_key_is_dropped_once_its_tokens_have_expired(tmp_path: Path) -> None:
    key_file = tmp_path / "signing-key.pem"
    first = load_key_ring(pem=None, key_file=key_file)
    long_ago = time.time() - RETIRED_KEY_RETENTION_SECONDS - 60
    rotate_signing_key(pem=None, key_file=key_file, now=long_ago)
    rotate_signing_key(pem=None, key_file=key_file)

    ring = load_key_ring(pem=None, key_file=key_file)
    kids = {k["kid"] for k in ring.public_jwks()["keys"]}
    assert first.kid not in kids, "retired longer ago than any token can live"
    assert len(kids) == 2


def test_a_token_of_a_dropped_key_no_longer_verifies(tmp_path: Path) -> None:
    key_file = tmp_path / "signing-key.pem"
    first = load_key_ring(pem=None, key_file=key_file)
    token = issue(first)
    rotate_signing_key(
        pem=None, key_file=key_file, now=time.time() - 2 * RETIRED_KEY_RETENTION_SECONDS
    )
    with pytest.raises(InvalidToken, match="signature or format"):
        verify_access_token(
            load_key_ring(pem=None, key_file=key_file), token, issuer=ISSUER, audience=AUDIENCE
        )


def test_a_key_from_the_environment_is_not_rotated_here(tmp_path: Path) -> None:
    pem = generate_key().as_pem(private=True).decode()
    with pytest.raises(KeyRotationError, match="ALLIANCE_SIGNING_KEY"):
        rotate_signing_key(pem=pem, key_file=tmp_path / "signing-key.pem")


def test_a_running_process_notices_the_rotation(tmp_path: Path) -> None:
    key_file = tmp_path / "signing-key.pem"
    ring = ReloadingKeyRing(pem=None, key_file=key_file, check_every=0)
    old_kid = ring.kid
    token = issue(ring.ring())
    rotate_signing_key(pem=None, key_file=key_file)
    assert ring.kid != old_kid
    assert {k["kid"] for k in ring.public_jwks()["keys"]} == {old_kid, ring.kid}
    assert verify_access_token(ring, token, issuer=ISSUER, audience=AUDIENCE)["client_id"] == "cl_x"


async def test_the_app_publishes_both_keys_after_alliance_keys_rotate(
    client: httpx.AsyncClient, settings: Any, tmp_path: Path
) -> None:
    before = (await client.get("/.well-known/jwks.json")).json()["keys"]
    assert len(before) == 1
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
    env["ALLIANCE_DATA_DIR"] = str(settings.data_dir)
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "alliance.cli", "keys", "rotate", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rotation = json.loads(result.stdout)
    assert rotation["retired_kid"] == before[0]["kid"]
    await asyncio.sleep(1.1)  # the app looks at the key files at most once a second
    after = (await client.get("/.well-known/jwks.json")).json()["keys"]
    assert {k["kid"] for k in after} == {before[0]["kid"], rotation["kid"]}
