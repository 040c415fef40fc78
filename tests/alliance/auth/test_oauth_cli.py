"""``alliance client|user|issuer`` as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import RSAKey
from sqlalchemy import select

from alliance.auth.credentials import check_client_secret, check_password
from alliance.auth.models import OAuthClient, TrustedIssuer
from alliance.auth.sync_db import make_sync_engine, make_sync_sessionmaker
from alliance.orgs.models import Person
from tests.conftest import BACKENDS, create_fresh_database


@dataclass
class Cli:
    env: dict[str, str]
    cwd: Path
    url: str

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "alliance.cli", *args],
            env=self.env,
            cwd=self.cwd,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def ok(self, *args: str, stdin: str | None = None) -> str:
        result = self(*args, stdin=stdin)
        assert result.returncode == 0, f"alliance {' '.join(args)}:\n{result.stderr}"
        return result.stdout

    def read(self, work: Any) -> Any:
        engine = make_sync_engine(self.url)
        try:
            with make_sync_sessionmaker(engine)() as session:
                return work(session)
        finally:
            engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
async def cli(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp(f"oauth-cli-{request.param}")
    url, drop = await create_fresh_database(request.param, tmp)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
    env |= {"ALLIANCE_DATA_DIR": str(tmp / "var"), "ALLIANCE_DATABASE_URL": url, "COLUMNS": "200"}
    runner = Cli(env=env, cwd=tmp, url=url)
    runner.ok("db", "upgrade")
    runner.ok("demo")
    try:
        yield runner
    finally:
        if drop is not None:
            await drop()


def test_client_create_prints_the_secret_once_and_stores_its_hash(cli: Cli) -> None:
    out = json.loads(
        cli.ok(
            "client",
            "create",
            "--org",
            "shopmart",
            "--scopes",
            "listings:check, sync:read",
            "--working-groups",
            "automotive-parts,luxury-goods",
            "--name",
            "ShopMart sync",
            "--json",
        )  # fmt: skip
    )
    assert out["client_id"].startswith("cl_")
    assert len(out["client_secret"]) >= 40
    assert out["scopes"] == ["listings:check", "sync:read"]
    assert out["grant_types"] == ["client_credentials"]

    row = cli.read(
        lambda s: s.scalar(select(OAuthClient).where(OAuthClient.client_id == out["client_id"]))
    )
    assert row.name == "ShopMart sync"
    assert out["client_secret"] not in row.secret_hash
    assert check_client_secret(row.secret_hash, out["client_secret"])
    assert not check_client_secret(row.secret_hash, out["client_secret"] + "x")
    assert len(row.working_group_ids) == 2

    listed = json.loads(cli.ok("client", "list", "--org", "shopmart", "--json"))
    assert out["client_id"] in {c["client_id"] for c in listed}
    assert out["client_secret"] not in json.dumps(listed)


def test_client_disable(cli: Cli) -> None:
    client_id = json.loads(
        cli.ok("client", "create", "--org", "shopmart", "--scopes", "sync:read", "--json")
    )["client_id"]
    assert f"client {client_id} disabled" in cli.ok("client", "disable", client_id)
    listed = {c["client_id"]: c for c in json.loads(cli.ok("client", "list", "--json"))}
    assert listed[client_id]["disabled"] is True
    missing = cli("client", "disable", "cl_nope")
    assert missing.returncode == 1
    assert "client 'cl_nope' not found" in missing.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--org", "no-such-org", "--scopes", "sync:read"), 1, "organisation 'no-such-org' not found"),
        (("--org", "shopmart", "--scopes", "sync:read bogus"), 2, "unknown scope(s): bogus"),
        (("--org", "shopmart", "--scopes", "admin"), 2, "may not hold scope(s): admin"),
        (("--org", "acme-motors", "--scopes", "sync:read", "--working-groups", "luxury-goods"),
         2, "has no seat in: luxury-goods"),
        (("--org", "shopmart", "--scopes", "sync:read", "--grant", "authorization_code"),
         2, "needs a redirect URI"),
        (("--org", "shopmart", "--scopes", "sync:read", "--grant", "password"), 2, "must be one of"),
    ],
)  # fmt: skip
def test_client_create_refuses_bad_input(
    cli: Cli, args: tuple[str, ...], code: int, message: str
) -> None:
    result = cli("client", "create", *args)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert result.stdout == ""


def test_user_create_with_a_password_on_stdin(cli: Cli) -> None:
    email = f"new.{uuid.uuid4().hex[:6]}@acme-motors.example"
    out = json.loads(
        cli.ok(
            "user",
            "create",
            "--org",
            "acme-motors",
            "--email",
            email,
            "--org-admin",
            "--password-stdin",
            "--json",
            stdin="a long enough password\n",
        )  # fmt: skip
    )
    assert out["created"] is True
    person = cli.read(lambda s: s.scalar(select(Person).where(Person.email == email)))
    assert person.org_admin is True
    assert check_password(person.password_hash, "a long enough password")
    assert "a long enough password" not in person.password_hash

    again = cli.ok(
        "user", "create", "--org", "acme-motors", "--email", email, "--password-stdin",
        stdin="another long password\n",
    )  # fmt: skip
    assert again.startswith(f"updated {email}")
    person = cli.read(lambda s: s.scalar(select(Person).where(Person.email == email)))
    assert check_password(person.password_hash, "another long password")
    assert person.org_admin is False


def test_user_create_refuses_short_passwords_and_strangers(cli: Cli) -> None:
    short = cli(
        "user", "create", "--org", "acme-motors", "--email", "x@acme-motors.example",
        "--password-stdin", stdin="short\n",
    )  # fmt: skip
    assert short.returncode == 2
    assert "password: must be at least 12 characters" in short.stderr
    stranger = cli(
        "user", "create", "--org", "acme-motors", "--email", "trust@shopmart.example",
        "--password-stdin", stdin="a long enough password\n",
    )  # fmt: skip
    assert stranger.returncode == 1
    assert "a person of another organisation" in stranger.stderr


def test_issuer_add(cli: Cli, tmp_path: Path) -> None:
    key = RSAKey.generate_key(2048, private=True, parameters={"kid": "idp"})
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    issuer = f"https://idp-{uuid.uuid4().hex[:6]}.city-police.example"

    out = cli.ok(
        "issuer", "add", "--org", "city-police", "--issuer", issuer, "--jwks-file", str(jwks_file)
    )
    assert f"trusted issuer {issuer} for city-police" in out
    row = cli.read(lambda s: s.scalar(select(TrustedIssuer).where(TrustedIssuer.issuer == issuer)))
    assert row.jwks["keys"][0]["kid"] == "idp"

    again = cli(
        "issuer",
        "add",
        "--org",
        "city-police",
        "--issuer",
        issuer,
        "--jwks-url",
        "https://x.example/jwks",
    )
    assert again.returncode == 1
    assert "already registered" in again.stderr
    both = cli(
        "issuer", "add", "--org", "city-police", "--issuer", "https://other.example",
        "--jwks-url", "https://x.example/jwks", "--jwks-file", str(jwks_file),
    )  # fmt: skip
    assert both.returncode == 2
    private = tmp_path / "private.json"
    private.write_text(json.dumps(key.as_dict(private=True)))
    leaked = cli(
        "issuer",
        "add",
        "--org",
        "city-police",
        "--issuer",
        "https://leak.example",
        "--jwks-file",
        str(private),
    )
    assert leaked.returncode == 2
    assert "public keys only" in leaked.stderr


@pytest.mark.parametrize(
    "command",
    [("client",), ("client", "create"), ("client", "list"), ("client", "disable"), ("user", "create"),
     ("issuer", "add"), ("keys", "rotate")],
)  # fmt: skip
def test_help_needs_no_settings(tmp_path: Path, command: tuple[str, ...]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
    env |= {"ALLIANCE_PORT": "abc", "ALLIANCE_DATA_DIR": str(tmp_path / "var"), "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "alliance.cli", *command, "--help"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert not (tmp_path / "var").exists()
