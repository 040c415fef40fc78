"""Settings from ``ALLIANCE_*`` variables: embedded defaults, overrides, and errors that name the variable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from alliance.config import SettingsError, load_settings, normalise_database_url


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No ALLIANCE_* variable set (the test harness's own ALLIANCE_TEST_* aside); cwd in tmp."""
    for key in list(os.environ):
        if key.startswith("ALLIANCE_") and not key.startswith("ALLIANCE_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def problems_of(error: SettingsError) -> dict[str, str]:
    """``{"ALLIANCE_PORT": "reason", ...}`` from the error's message, one variable a line."""
    lines = str(error).splitlines()
    assert lines[0] == "invalid settings:"
    problems = {}
    for line in lines[1:]:
        name, sep, reason = line.strip().partition(": ")
        assert sep, f"line without a variable name: {line!r}"
        problems[name] = reason
    return problems


def test_defaults_are_the_embedded_profile_under_the_data_dir(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = load_settings()

    data_dir = (tmp_path / "var").resolve()
    assert settings.data_dir == data_dir
    assert settings.database_url == f"sqlite+aiosqlite:///{data_dir / 'alliance.db'}"
    assert settings.search_url == f"tantivy://{data_dir / 'search'}"
    assert settings.broker_url is None
    assert settings.broker_dir == data_dir / "broker"
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.token_audience == settings.base_url
    assert settings.signing_key_file == data_dir / "keys" / "signing-key.pem"
    assert settings.signing.key is None
    assert settings.server.embedded_worker is True
    assert settings.log.level == "INFO"
    assert settings.log.format == "json"


def test_data_dir_moves_every_embedded_store(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("ALLIANCE_DATA_DIR", str(tmp_path / "elsewhere"))
    settings = load_settings()
    data_dir = (tmp_path / "elsewhere").resolve()
    assert settings.database_url == f"sqlite+aiosqlite:///{data_dir / 'alliance.db'}"
    assert settings.search_url == f"tantivy://{data_dir / 'search'}"
    assert settings.signing_key_file.is_relative_to(data_dir)
    assert settings.broker_dir.is_relative_to(data_dir)


def test_host_and_port_make_the_default_base_url(env: pytest.MonkeyPatch) -> None:
    env.setenv("ALLIANCE_HOST", "0.0.0.0")
    env.setenv("ALLIANCE_PORT", "9000")
    assert load_settings().base_url == "http://0.0.0.0:9000"


def test_environment_overrides_each_backend(env: pytest.MonkeyPatch) -> None:
    env.setenv("ALLIANCE_DATABASE_URL", "postgresql://u@h/db")
    env.setenv("ALLIANCE_BROKER_URL", "redis://redis:6379/0")
    env.setenv("ALLIANCE_SEARCH_URL", "http://es:9200")
    env.setenv("ALLIANCE_BASE_URL", "https://alliance.example/")
    env.setenv("ALLIANCE_TOKEN_AUDIENCE", "https://api.alliance.example")
    env.setenv("ALLIANCE_LOG_LEVEL", "debug")

    settings = load_settings()

    assert settings.database_url == "postgresql+asyncpg://u@h/db"
    assert settings.broker_url == "redis://redis:6379/0"
    assert settings.search_url == "http://es:9200"
    assert settings.base_url == "https://alliance.example", "trailing slash kept: issuer mismatch"
    assert settings.token_audience == "https://api.alliance.example"
    assert settings.log.level == "DEBUG"


def test_broker_url_embedded_means_no_server(env: pytest.MonkeyPatch) -> None:
    env.setenv("ALLIANCE_BROKER_URL", "embedded")
    assert load_settings().broker_url is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u:p@h:5433/db", "postgresql+asyncpg://u:p@h:5433/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///var/a.db", "sqlite+aiosqlite:///var/a.db"),
        ("sqlite+aiosqlite:////abs/a.db", "sqlite+aiosqlite:////abs/a.db"),
    ],
)
def test_database_urls_are_normalised_to_async_drivers(url: str, expected: str) -> None:
    assert normalise_database_url(url) == expected


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("ALLIANCE_PORT", "abc", "valid integer"),
        ("ALLIANCE_PORT", "70000", "less than or equal to 65535"),
        ("ALLIANCE_PORT", "0", "greater than or equal to 1"),
        ("ALLIANCE_DATABASE_URL", "mysql://x", "unsupported database scheme 'mysql'"),
        ("ALLIANCE_DATABASE_URL", "alliance.db", "must be a URL"),
        ("ALLIANCE_SEARCH_URL", "ftp://x", "tantivy:///path (embedded) or an http(s)://"),
        ("ALLIANCE_BROKER_URL", "kafka://x", "redis://, amqp://"),
        ("ALLIANCE_BASE_URL", "example.org", "must start with http:// or https://"),
        ("ALLIANCE_LOG_LEVEL", "LOUD", "'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
        ("ALLIANCE_LOG_FORMAT", "xml", "'json' or 'text'"),
        ("ALLIANCE_SIGNING_KEY", "notakey", "PEM-encoded private key"),
        ("ALLIANCE_TOKEN_TTL_SECONDS", "5", "greater than or equal to 60"),
        ("ALLIANCE_DATABASE_POOL_SIZE", "many", "valid integer"),
    ],
)
def test_bad_value_names_the_variable_and_the_reason(
    env: pytest.MonkeyPatch, variable: str, value: str, reason: str
) -> None:
    env.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    problems = problems_of(caught.value)
    assert list(problems) == [variable]
    assert reason in problems[variable]


def test_every_bad_variable_is_reported_at_once(env: pytest.MonkeyPatch) -> None:
    bad = {
        "ALLIANCE_PORT": ("abc", "valid integer"),
        "ALLIANCE_DATABASE_URL": ("mysql://x", "unsupported database scheme"),
        "ALLIANCE_SEARCH_URL": ("ftp://x", "Elasticsearch URL"),
        "ALLIANCE_BROKER_URL": ("kafka://x", "redis://"),
        "ALLIANCE_BASE_URL": ("example.org", "http:// or https://"),
        "ALLIANCE_LOG_LEVEL": ("LOUD", "'DEBUG'"),
        "ALLIANCE_SIGNING_KEY": ("notakey", "PEM-encoded private key"),
    }
    for variable, (value, _) in bad.items():
        env.setenv(variable, value)

    with pytest.raises(SettingsError) as caught:
        load_settings()

    problems = problems_of(caught.value)
    assert set(problems) == set(bad)
    for variable, (_, reason) in bad.items():
        assert reason in problems[variable], (variable, problems[variable])


def test_errors_do_not_echo_secrets(env: pytest.MonkeyPatch) -> None:
    env.setenv("ALLIANCE_DATABASE_URL", "mysql://admin:s3cret-pw@db/alliance")
    env.setenv("ALLIANCE_SIGNING_KEY", "s3cret-material")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert set(problems_of(caught.value)) == {"ALLIANCE_DATABASE_URL", "ALLIANCE_SIGNING_KEY"}
    assert "s3cret" not in str(caught.value)


def test_unrelated_variables_are_ignored(env: pytest.MonkeyPatch) -> None:
    env.setenv("ALLIANCE_SOMETHING_ELSE", "whatever")
    env.setenv("DATABASE_URL", "mysql://not-ours")
    assert load_settings().database_url.startswith("sqlite+aiosqlite:///")
