"""Sealing peers' client secrets: the sealed form, legacy plaintext, wrong keys, and the key
from settings or from a key file made once (0600) and shared by every process."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st

from alliance.config import SettingsError, load_settings
from alliance.federation import sealing

KEY = Fernet(sealing.generate_key())


@given(st.text(min_size=1, max_size=500))
def test_a_sealed_secret_opens_to_itself_and_does_not_show_it(secret: str) -> None:
    stored = sealing.seal(KEY, secret)
    assert stored.startswith("fernet:v1:")
    assert sealing.is_sealed(stored)
    assert sealing.unseal(KEY, stored) == secret
    if len(secret) >= 4:
        assert secret not in stored


def test_sealing_twice_gives_different_values() -> None:
    assert sealing.seal(KEY, "s3cret") != sealing.seal(KEY, "s3cret")


def test_a_legacy_plaintext_value_is_read_as_it_is() -> None:
    assert not sealing.is_sealed("plain-secret")
    assert sealing.unseal(KEY, "plain-secret") == "plain-secret"


def test_another_key_gives_the_typed_error_naming_the_fix() -> None:
    stored = sealing.seal(Fernet(sealing.generate_key()), "s3cret-value")
    with pytest.raises(sealing.SealingKeyMismatch) as failure:
        sealing.unseal(KEY, stored)
    assert failure.value.code == "SEALING_KEY_MISMATCH"
    assert "ALLIANCE_FEDERATION_SEALING_KEY" in failure.value.message
    assert "alliance peers add" in failure.value.message
    assert "s3cret-value" not in failure.value.message


def test_a_damaged_sealed_value_gives_the_same_error() -> None:
    stored = sealing.seal(KEY, "s3cret")
    with pytest.raises(sealing.SealingKeyMismatch):
        sealing.unseal(KEY, stored[:-4] + "AAAA")
    with pytest.raises(sealing.SealingKeyMismatch):
        sealing.unseal(KEY, "fernet:v1:not-a-token")


def test_the_key_file_is_made_once_with_mode_0600_and_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "federation-sealing.key"
    first = sealing.load_sealing_key(key=None, key_file=key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    made = key_file.read_bytes()
    again = sealing.load_sealing_key(key=None, key_file=key_file)
    assert key_file.read_bytes() == made
    assert again.decrypt(first.encrypt(b"x")) == b"x"
    assert [p.name for p in key_file.parent.iterdir()] == [key_file.name]


def _load_in_process(key_file: str, start: Any, results: Any) -> None:
    start.wait()
    key = sealing.load_sealing_key(key=None, key_file=Path(key_file))
    results.put(sealing.seal(key, "from-another-process"))


def test_concurrent_first_uses_in_several_processes_end_with_one_key(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "federation-sealing.key"
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(6), context.Queue()
    workers = [
        context.Process(target=_load_in_process, args=(str(key_file), start, results))
        for _ in range(6)
    ]
    for worker in workers:
        worker.start()
    sealed = [results.get(timeout=30) for _ in workers]
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    key = sealing.load_sealing_key(key=None, key_file=key_file)
    assert {sealing.unseal(key, s) for s in sealed} == {"from-another-process"}
    assert [p.name for p in key_file.parent.iterdir()] == [key_file.name]


def test_the_key_from_settings_wins_over_the_file(tmp_path: Path) -> None:
    key_file = tmp_path / "federation-sealing.key"
    given_key = sealing.generate_key()
    key = sealing.load_sealing_key(key=given_key, key_file=key_file)
    assert Fernet(given_key).decrypt(key.encrypt(b"x")) == b"x"
    assert not key_file.exists()


def test_a_key_file_without_a_fernet_key_is_a_typed_error(tmp_path: Path) -> None:
    key_file = tmp_path / "federation-sealing.key"
    key_file.write_text("not a key\n")
    with pytest.raises(sealing.SealingKeyUnusable, match="does not hold a Fernet key"):
        sealing.load_sealing_key(key=None, key_file=key_file)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through directory permissions")
def test_a_key_file_that_cannot_be_made_is_a_typed_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        with pytest.raises(sealing.SealingKeyUnusable, match="cannot be read or made"):
            sealing.load_sealing_key(key=None, key_file=locked / "federation-sealing.key")
    finally:
        locked.chmod(0o700)


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key in list(os.environ):
        if key.startswith("ALLIANCE_") and not key.startswith("ALLIANCE_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ALLIANCE_DATA_DIR", str(tmp_path / "var"))
    return monkeypatch


def test_settings_default_to_a_key_file_under_the_data_dir(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = load_settings()
    assert settings.federation.sealing_key is None
    assert settings.federation_sealing_key_file == (
        (tmp_path / "var").resolve() / "keys" / "federation-sealing.key"
    )
    sealing.sealing_key(settings)
    assert settings.federation_sealing_key_file.exists()


def test_settings_take_the_key_and_the_key_file_from_the_environment(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    given_key = sealing.generate_key()
    clean_env.setenv("ALLIANCE_FEDERATION_SEALING_KEY", given_key)
    clean_env.setenv("ALLIANCE_FEDERATION_SEALING_KEY_FILE", str(tmp_path / "elsewhere.key"))
    settings = load_settings()
    assert settings.federation_sealing_key_file == tmp_path / "elsewhere.key"
    assert given_key not in repr(settings)
    stored = sealing.seal(sealing.sealing_key(settings), "s3cret")
    assert sealing.unseal(Fernet(given_key), stored) == "s3cret"
    assert not (tmp_path / "elsewhere.key").exists()


def test_a_bad_sealing_key_stops_start_up_naming_the_variable(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("ALLIANCE_FEDERATION_SEALING_KEY", "too-short")
    with pytest.raises(SettingsError) as failure:
        load_settings()
    assert "ALLIANCE_FEDERATION_SEALING_KEY: " in str(failure.value)
    assert "Fernet key" in str(failure.value)
    assert "too-short" not in str(failure.value)
