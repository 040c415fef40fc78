"""The storage backends and how ``ALLIANCE_BLOBS_*`` selects one.

The S3 backend is checked here only as far as no server is needed: its settings, and (in
test_sigv4.py) its signatures against AWS's published examples. No S3-compatible server runs
in this workplace, and a fake one would prove nothing about the real thing.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from alliance.blobs.storage import (
    FileSystemStorage,
    S3Storage,
    blob_key,
    storage_for,
    thumbnail_key,
)
from alliance.config import SettingsError, load_settings
from tests.alliance.blobs.conftest import stored_files

SHA = hashlib.sha256(b"x").hexdigest()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key in list(os.environ):
        if key.startswith("ALLIANCE_") and not key.startswith("ALLIANCE_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ALLIANCE_DATA_DIR", str(tmp_path / "var"))
    return monkeypatch


def test_the_filesystem_store_writes_whole_files_under_content_keys(tmp_path: Path) -> None:
    store = FileSystemStorage(tmp_path / "blobs")
    key = blob_key(SHA)
    assert key == f"{SHA[:2]}/{SHA[2:4]}/{SHA}"
    assert not store.exists(key)
    store.put(key, b"first")
    store.put(key, b"second")  # replaced by rename, never appended to
    assert store.get(key) == b"second"
    store.put(thumbnail_key(SHA), b"small")
    assert stored_files(tmp_path / "blobs") == [
        tmp_path / "blobs" / key,
        tmp_path / "blobs" / thumbnail_key(SHA),
    ]
    store.delete(key)
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(FileNotFoundError):
        store.get(key)


@pytest.mark.parametrize("key", ["../../etc/passwd", "ab/cd/short", "/abs", SHA])
def test_the_filesystem_store_refuses_keys_it_did_not_make(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match="not a blob key"):
        FileSystemStorage(tmp_path).put(key, b"x")
    assert stored_files(tmp_path) == []


def test_by_default_blobs_live_under_the_data_dir(env, tmp_path: Path) -> None:
    settings = load_settings()
    store = storage_for(settings)
    assert isinstance(store, FileSystemStorage)
    assert store.root == (tmp_path / "var" / "blobs").resolve()
    env.setenv("ALLIANCE_BLOBS_URL", f"file://{tmp_path}/elsewhere")
    assert storage_for(load_settings()).root == tmp_path / "elsewhere"  # type: ignore[attr-defined]


def test_an_s3_url_needs_its_endpoint_and_credentials(env) -> None:
    env.setenv("ALLIANCE_BLOBS_URL", "s3://guide-photos/alliance")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "ALLIANCE_BLOBS_URL" in message
    for name in ("S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"):
        assert f"ALLIANCE_BLOBS_{name}" in message


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("s3://Bad_Bucket", "bucket"),
        ("s3://photos/with space", "prefix"),
        ("https://bucket.example", "s3://"),
    ],
)
def test_bad_blob_urls_are_refused_by_name(env, url: str, reason: str) -> None:
    env.setenv("ALLIANCE_BLOBS_URL", url)
    with pytest.raises(SettingsError, match="ALLIANCE_BLOBS_URL") as caught:
        load_settings()
    assert reason in str(caught.value)


def test_an_s3_url_selects_the_s3_backend(env) -> None:
    env.setenv("ALLIANCE_BLOBS_URL", "s3://guide-photos/alliance/")
    env.setenv("ALLIANCE_BLOBS_S3_ENDPOINT", "http://127.0.0.1:9000/")
    env.setenv("ALLIANCE_BLOBS_S3_REGION", "eu-west-1")
    env.setenv("ALLIANCE_BLOBS_S3_ACCESS_KEY_ID", "AKIDEXAMPLE")
    env.setenv("ALLIANCE_BLOBS_S3_SECRET_ACCESS_KEY", "secret")
    store = storage_for(load_settings())
    assert isinstance(store, S3Storage)
    assert (store.endpoint, store.host, store.bucket, store.prefix, store.region) == (
        "http://127.0.0.1:9000",
        "127.0.0.1:9000",
        "guide-photos",
        "alliance/",
        "eu-west-1",
    )
