"""Where blob bytes live: a small protocol, and the filesystem backend (the default).

Keys are relative paths made by :func:`blob_key` (content-addressed by SHA-256), so the
same bytes are stored once whoever uploads them. Writes are atomic: a temporary file in
the target directory, fsynced, then renamed over the key, so a reader never sees half a
file and a failed write leaves nothing behind.

``ALLIANCE_BLOBS_URL=s3://bucket[/prefix]`` selects the S3-compatible backend: path-style
requests (``<endpoint>/<bucket>/<key>``, which AWS, MinIO, Ceph and Garage all serve) signed
with SigV4 (``alliance.blobs.sigv4``) over httpx. S3 writes are atomic by themselves.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from alliance.blobs import sigv4
from alliance.config import BlobSettings, Settings

_KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}(\.thumb\.jpg)?")
_TEMPORARY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/\.upload-[^/]*\.tmp")


class BlobStorage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


def blob_key(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def thumbnail_key(sha256: str) -> str:
    return f"{blob_key(sha256)}.thumb.jpg"


def content_of_key(key: str) -> str | None:
    """The SHA-256 of the blob whose bytes (or thumbnail) ``key`` holds; None if not a blob key."""
    return key.rsplit("/", 1)[1][:64] if _KEY.fullmatch(key) else None


def is_temporary_key(key: str) -> bool:
    """Whether ``key`` names a file a write makes before renaming it over its blob key."""
    return _TEMPORARY.fullmatch(key) is not None


class FileSystemStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        # Keys are ours, never a caller's; refusing anything else keeps paths inside the root.
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a blob key: {key!r}")
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3Storage:
    """Objects in an S3-compatible bucket. Synchronous, like the protocol: callers run it off
    the event loop."""

    def __init__(
        self,
        *,
        endpoint: str,
        bucket: str,
        prefix: str,
        region: str,
        access_key_id: str,
        secret_access_key: str,
        timeout_seconds: float = 30.0,
    ) -> None:
        parsed = urlsplit(endpoint)
        self.endpoint = f"{parsed.scheme}://{parsed.netloc}"
        self.host = parsed.netloc
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.region = region
        self._credentials = (access_key_id, secret_access_key)
        self._timeout = timeout_seconds

    @classmethod
    def from_url(cls, url: str, settings: BlobSettings) -> S3Storage:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        endpoint, key_id = settings.s3_endpoint, settings.s3_access_key_id
        secret = settings.s3_secret_access_key
        if not (endpoint and key_id and secret):  # the settings refuse this already
            raise ValueError("an s3:// blob store needs an endpoint and credentials")
        return cls(
            endpoint=endpoint,
            bucket=bucket,
            prefix=prefix,
            region=settings.s3_region,
            access_key_id=key_id,
            secret_access_key=secret,
        )

    def _request(self, method: str, key: str, body: bytes = b"") -> httpx.Response:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a blob key: {key!r}")
        path = f"/{self.bucket}/{self.prefix}{key}"
        headers = {"Content-Type": "application/octet-stream"} if method == "PUT" else {}
        signed = sigv4.sign(
            method=method,
            host=self.host,
            path=path,
            headers=headers,
            payload_sha256=hashlib.sha256(body).hexdigest(),
            access_key_id=self._credentials[0],
            secret_access_key=self._credentials[1],
            region=self.region,
            moment=datetime.now(UTC),
        )
        try:
            # A client per call: backends are made per use (``storage_for``), and a pool left
            # to the garbage collector would leak connections.
            with httpx.Client(timeout=self._timeout) as client:
                return client.request(
                    method, self.endpoint + sigv4.canonical_uri(path), content=body, headers=signed
                )
        except httpx.HTTPError as exc:
            raise OSError(f"S3 {method} {key}: {exc}") from exc

    def _fail(self, response: httpx.Response, key: str) -> OSError:
        return OSError(f"S3 {response.request.method} {key}: HTTP {response.status_code}")

    def put(self, key: str, data: bytes) -> None:
        response = self._request("PUT", key, data)
        if response.status_code != 200:
            raise self._fail(response, key)

    def get(self, key: str) -> bytes:
        response = self._request("GET", key)
        if response.status_code == 404:
            raise FileNotFoundError(key)
        if response.status_code != 200:
            raise self._fail(response, key)
        return response.content

    def delete(self, key: str) -> None:
        response = self._request("DELETE", key)
        if response.status_code not in (200, 204, 404):
            raise self._fail(response, key)

    def exists(self, key: str) -> bool:
        response = self._request("HEAD", key)
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            raise self._fail(response, key)
        return True


def storage_for(settings: Settings) -> BlobStorage:
    """The backend ``ALLIANCE_BLOBS_URL`` selects (validated by the settings)."""
    url = settings.blobs.url
    if url and url.startswith("s3://"):
        return S3Storage.from_url(url, settings.blobs)
    return FileSystemStorage(settings.blobs_dir)
