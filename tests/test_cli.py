"""The ``alliance`` command, run for real in a child process against a fresh database."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from alliance.auth.keys import load_key_ring
from alliance.auth.tokens import verify_access_token
from alliance.cases.demo import REPORT_LINES as DEMO_CASE_LINES
from alliance.db import make_engine, make_sessionmaker
from alliance.demo import MEMBERSHIPS, ORGANISATIONS, PEOPLE, WORKING_GROUPS
from alliance.guides.demo import REPORT_LINES as DEMO_GUIDE_LINES
from alliance.indicators.demo import REPORT_LINES as DEMO_INDICATOR_LINES
from alliance.listings.demo import REPORT_LINES as DEMO_LISTING_LINES
from alliance.orgs import repository as repo
from tests.conftest import BACKENDS, create_fresh_database

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEMO_ROWS = (
    len(ORGANISATIONS)
    + len(WORKING_GROUPS)
    + sum(len(seats) for seats in MEMBERSHIPS.values())
    + len(PEOPLE)
    + len(PEOPLE)  # their portal sign-in accounts
    + DEMO_INDICATOR_LINES
    + DEMO_LISTING_LINES
    + DEMO_GUIDE_LINES
    + DEMO_CASE_LINES
)


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without ALLIANCE_* settings (ALLIANCE_TEST_* kept)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ALLIANCE_") or k.startswith("ALLIANCE_TEST_")
    }
    # Wide, plain help output: Rich wraps at the terminal width otherwise.
    env |= {"ALLIANCE_DATA_DIR": str(data_dir), "COLUMNS": "200", "NO_COLOR": "1"}
    return env | extra


@dataclass
class Cli:
    cwd: Path
    env: dict[str, str]
    database_url: str

    @property
    def data_dir(self) -> Path:
        return Path(self.env["ALLIANCE_DATA_DIR"])

    def __call__(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "alliance.cli", *args],
            cwd=self.cwd,
            env=self.env | extra_env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.returncode == 0, f"alliance {' '.join(args)}:\n{result.stderr}"
        return result.stdout

    def verify(self, token: str) -> dict[str, Any]:
        keys = load_key_ring(pem=None, key_file=self.data_dir / "keys" / "signing-key.pem")
        return verify_access_token(keys, token, issuer=DEFAULT_BASE_URL, audience=DEFAULT_BASE_URL)

    async def ids(self) -> dict[str, uuid.UUID]:
        """Ids of the demo organisations (by slug) and people (by e-mail), read from the database."""
        engine = make_engine(self.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                found = {}
                for slug, *_ in ORGANISATIONS:
                    found[slug] = (await repo.organisation_by_slug(session, slug)).id
                for _, email, _ in PEOPLE:
                    found[email] = (await repo.person_by_email(session, email)).id
                return found
        finally:
            await engine.dispose()


@dataclass
class Seeded:
    cli: Cli
    upgrade: str
    first_demo: str
    second_demo_json: str
    third_demo: str
    ids: dict[str, uuid.UUID]


@pytest.fixture(scope="module", params=BACKENDS)
async def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A data dir and database after ``db upgrade``, ``demo`` and two more ``demo`` runs."""
    tmp = tmp_path_factory.mktemp(f"cli-{request.param}")
    data_dir = tmp / "var"
    if request.param == "sqlite":
        # The embedded default: the database file lives in the data dir.
        url, drop = f"sqlite+aiosqlite:///{data_dir / 'alliance.db'}", None
        env = clean_env(data_dir)
    else:
        url, drop = await create_fresh_database("postgresql", tmp)
        env = clean_env(data_dir, ALLIANCE_DATABASE_URL=url)
    cli = Cli(cwd=tmp, env=env, database_url=url)
    try:
        upgrade = await asyncio.to_thread(cli.ok, "db", "upgrade")
        first = await asyncio.to_thread(cli.ok, "demo")
        second = await asyncio.to_thread(cli.ok, "demo", "--json")
        third = await asyncio.to_thread(cli.ok, "demo")
        yield Seeded(cli, upgrade, first, second, third, await cli.ids())
    finally:
        if drop is not None:
            await drop()


@pytest.fixture
def cli(seeded: Seeded) -> Cli:
    return seeded.cli


# --- database and demo ------------------------------------------------------------------------


def test_upgrade_then_demo_seeds_once(seeded: Seeded) -> None:
    assert seeded.upgrade.startswith("database at head")
    if seeded.cli.database_url.startswith("sqlite"):
        assert (seeded.cli.data_dir / "alliance.db").is_file()
    else:
        assert "postgresql+asyncpg://" in seeded.upgrade

    created = [line for line in seeded.first_demo.splitlines() if line.startswith("created ")]
    assert len(created) == DEMO_ROWS
    assert "created organisation alliance-office" in created
    assert "created working group automotive-parts" in created
    assert "created membership acme-motors in automotive-parts (chair)" in created
    assert "created person analyst@acme-motors.example" in created
    assert "created sign-in account analyst@acme-motors.example" in created
    assert "Sign in to the portal at http://127.0.0.1:8000/portal" in seeded.first_demo
    assert f"{DEMO_ROWS} created, 0 already present" in seeded.first_demo

    assert json.loads(seeded.second_demo_json) == {"created": [], "already_present": DEMO_ROWS}

    assert not [line for line in seeded.third_demo.splitlines() if line.startswith("created ")]
    assert f"0 created, {DEMO_ROWS} already present" in seeded.third_demo


def test_upgrade_again_is_a_no_op(cli: Cli) -> None:
    assert cli.ok("db", "upgrade").startswith("database at head")
    assert json.loads(cli.ok("demo", "--json"))["created"] == []


# --- tokens -----------------------------------------------------------------------------------


def test_token_for_an_organisation_verifies_with_the_key_in_the_data_dir(seeded: Seeded) -> None:
    result = seeded.cli("token", "issue", "--org", "alliance-office", "--scopes", "admin")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    [token] = result.stdout.splitlines()
    claims = seeded.cli.verify(token)
    assert claims["org"] == str(seeded.ids["alliance-office"])
    assert claims["org_slug"] == "alliance-office"
    assert claims["scope"] == "admin"
    assert claims["client_id"] == "alliance-cli"
    assert claims["sub"] == "cli:alliance-office"
    assert "person" not in claims
    assert claims["exp"] - claims["iat"] == 3600


def test_token_for_a_person_carries_the_person_claim(seeded: Seeded) -> None:
    token = seeded.cli.ok(
        "token",
        "issue",
        "--user",
        "analyst@acme-motors.example",
        "--org",
        "acme-motors",
        "--scopes",
        "indicators:read, guides:read indicators:read",
    ).strip()

    claims = seeded.cli.verify(token)
    person_id = str(seeded.ids["analyst@acme-motors.example"])
    assert claims["person"] == person_id
    assert claims["sub"] == person_id
    assert claims["org"] == str(seeded.ids["acme-motors"])
    assert claims["scope"] == "indicators:read guides:read", "scopes split and de-duplicated"


def test_token_json_output(cli: Cli) -> None:
    out = json.loads(
        cli.ok("token", "issue", "--org", "shopmart", "--scopes", "listings:check", "--json")
    )

    assert set(out) == {"access_token", "token_type", "expires_in", "scope"}
    assert out["token_type"] == "Bearer"
    assert out["expires_in"] == 3600
    assert out["scope"] == "listings:check"
    claims = cli.verify(out["access_token"])
    assert claims["scope"] == "listings:check"
    assert claims["exp"] - claims["iat"] == out["expires_in"]


@pytest.mark.parametrize(
    ("ttl", "seconds"), [("15m", 900), ("90", 90), ("2h", 7200), ("1d", 86400)]
)
def test_token_ttl(cli: Cli, ttl: str, seconds: int) -> None:
    token = cli.ok("token", "issue", "--org", "acme-motors", "--scopes", "admin", "--ttl", ttl)
    claims = cli.verify(token.strip())
    assert claims["exp"] - claims["iat"] == seconds


def test_default_ttl_comes_from_the_setting(cli: Cli) -> None:
    result = cli(
        "token",
        "issue",
        "--org",
        "acme-motors",
        "--scopes",
        "admin",
        ALLIANCE_TOKEN_TTL_SECONDS="120",
    )
    assert result.returncode == 0, result.stderr
    claims = cli.verify(result.stdout.strip())
    assert claims["exp"] - claims["iat"] == 120


@pytest.mark.parametrize("ttl", ["0", "59", "31d"])
def test_ttl_outside_one_minute_to_thirty_days_is_refused(cli: Cli, ttl: str) -> None:
    result = cli("token", "issue", "--org", "acme-motors", "--scopes", "admin", "--ttl", ttl)
    assert result.returncode == 2
    assert "between 1 minute and 30 days" in result.stderr
    assert result.stdout == ""


def test_bad_ttl_is_a_usage_error(cli: Cli) -> None:
    result = cli("token", "issue", "--org", "acme-motors", "--scopes", "admin", "--ttl", "15x")
    assert result.returncode == 2
    assert "15m, 1h, 7d" in result.stderr
    assert result.stdout == ""


def test_unknown_organisation_fails_with_a_message(cli: Cli) -> None:
    result = cli("token", "issue", "--org", "no-such-org", "--scopes", "admin")
    assert result.returncode == 1
    assert "no organisation with slug 'no-such-org'" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("scopes", ["bogus", "admin,bogus", "indicators:read bogus"])
def test_unknown_scope_is_a_usage_error_naming_it(cli: Cli, scopes: str) -> None:
    result = cli("token", "issue", "--org", "acme-motors", "--scopes", scopes)
    assert result.returncode == 2
    assert "unknown scope(s) bogus;" in result.stderr
    assert "indicators:read" in result.stderr.split("known:")[1], "lists the known scopes"
    assert result.stdout == ""


def test_person_of_another_organisation_is_refused(cli: Cli) -> None:
    result = cli(
        "token",
        "issue",
        "--org",
        "acme-motors",
        "--user",
        "operator@alliance-office.example",
        "--scopes",
        "admin",
    )
    assert result.returncode == 1
    assert "no person 'operator@alliance-office.example' in organisation 'acme-motors'" in (
        result.stderr
    )
    assert result.stdout == ""


# --- settings errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("db", "upgrade"),
        ("demo",),
        ("token", "issue", "--org", "acme-motors", "--scopes", "admin"),
    ],
)
def test_bad_setting_exits_2_naming_the_variable(tmp_path: Path, args: tuple[str, ...]) -> None:
    cli = Cli(cwd=tmp_path, env=clean_env(tmp_path / "var"), database_url="")
    result = cli(*args, ALLIANCE_PORT="abc")
    assert result.returncode == 2
    assert "ALLIANCE_PORT" in result.stderr
    assert "valid integer" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "var").exists(), "nothing is created before the settings are valid"


# --- schema and help --------------------------------------------------------------------------


def test_schema_export_matches_the_committed_schema(tmp_path: Path) -> None:
    cli = Cli(cwd=tmp_path, env=clean_env(tmp_path / "var"), database_url="")
    committed = (ROOT / "schema" / "schema.graphql").read_text(encoding="utf-8")
    assert cli.ok("schema", "export") == committed


HELP = {
    (): "Alliance: knowledge sharing",
    ("serve",): "Serve the API",
    ("worker",): "Run a Celery worker",
    ("beat",): "Run the periodic scheduler",
    ("db",): "Database migrations.",
    ("db", "upgrade"): "Apply migrations up to REVISION",
    ("db", "downgrade"): "Revert migrations down to REVISION",
    ("demo",): "Seed the demo alliance",
    ("token",): "Access tokens.",
    ("token", "issue"): "Print an RFC 9068 access token",
    ("schema",): "The GraphQL schema.",
    ("schema", "export"): "Print the GraphQL schema (SDL)",
    ("cases", "export"): "Export a signed case package",
    ("evidence", "verify"): "Check every hash, the chain and the signature",
    ("report",): "The alliance-wide yearly transparency report",
}


@pytest.mark.parametrize("command", list(HELP), ids=lambda c: " ".join(c) or "alliance")
def test_help_works_for_every_command(tmp_path: Path, command: tuple[str, ...]) -> None:
    # Help must not need valid settings, a database or a broker.
    cli = Cli(cwd=tmp_path, env=clean_env(tmp_path / "var"), database_url="")
    result = cli(*command, "--help", ALLIANCE_PORT="abc", ALLIANCE_DATABASE_URL="mysql://x")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert HELP[command] in result.stdout
    assert not (tmp_path / "var").exists()


def test_installed_console_script_runs(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "alliance"
    if not script.exists():
        pytest.skip("the alliance console script is not installed in this environment")
    result = subprocess.run(
        [str(script), "--help"],
        cwd=tmp_path,
        env=clean_env(tmp_path / "var"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "token" in result.stdout
