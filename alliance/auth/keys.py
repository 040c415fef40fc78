"""The instance signing key: from settings, from a file, or made on first start."""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from joserfc.jwk import KeySet, RSAKey

ALGORITHM = "RS256"
# The longest an access token can live (the CLI's and the settings' ceiling), plus clock
# leeway: a retired key must verify the tokens it signed until the last of them expires.
RETIRED_KEY_RETENTION_SECONDS = 30 * 24 * 3600 + 120


class SigningKeys(Protocol):
    """What signing and verifying need: a :class:`KeyRing`, or a :class:`ReloadingKeyRing`."""

    @property
    def current(self) -> RSAKey: ...

    @property
    def verifying(self) -> KeySet: ...

    @property
    def kid(self) -> str: ...

    def public_jwks(self) -> dict[str, object]: ...


@dataclass(frozen=True)
class KeyRing:
    """The key that signs now, and every key whose tokens may still be verified."""

    current: RSAKey
    verifying: KeySet

    @property
    def kid(self) -> str:
        return str(self.current.kid)

    def public_jwks(self) -> dict[str, object]:
        return self.verifying.as_dict(private=False)


def _with_kid(key: RSAKey) -> RSAKey:
    return RSAKey.import_key(
        key.as_dict(private=True),
        parameters={"kid": key.thumbprint(), "use": "sig", "alg": ALGORITHM},
    )


def generate_key() -> RSAKey:
    return _with_kid(RSAKey.generate_key(2048, private=True))


def load_key_ring(*, pem: str | None, key_file: Path) -> KeyRing:
    """Use the PEM from settings if given; otherwise the key file, creating it when absent."""
    if pem:
        key = _with_kid(RSAKey.import_key(pem))
    elif key_file.exists():
        key = _with_kid(RSAKey.import_key(key_file.read_bytes()))
    else:
        key = generate_key()
        key_file.parent.mkdir(parents=True, exist_ok=True)
        # A temporary name of its own (mkstemp: mode 0600), so concurrent first starts
        # cannot write into, link or unlink each other's half-written key.
        fd, tmp_name = tempfile.mkstemp(dir=key_file.parent, prefix=f".{key_file.name}.")
        tmp = Path(tmp_name)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.as_pem(private=True))
        try:
            # Another process may have made one meanwhile; keep whichever landed first.
            os.link(tmp, key_file)
        except FileExistsError:
            key = _with_kid(RSAKey.import_key(key_file.read_bytes()))
        finally:
            tmp.unlink(missing_ok=True)
    if not key.is_private:
        raise ValueError("the signing key must be a private key")
    retired = [k for k in retired_keys(key_file) if k.kid != key.kid]
    return KeyRing(current=key, verifying=KeySet([key, *retired]))


# --- rotation ---------------------------------------------------------------------------------


class KeyRotationError(Exception):
    """The key cannot be rotated here (e.g. it comes from ALLIANCE_SIGNING_KEY)."""


def retired_keys_file(key_file: Path) -> Path:
    return key_file.with_name(key_file.stem + ".retired.json")


def _read_retired(key_file: Path) -> list[dict[str, Any]]:
    path = retired_keys_file(key_file)
    if not path.exists():
        return []
    entries = json.loads(path.read_text(encoding="utf-8")).get("keys", [])
    return [e for e in entries if isinstance(e, dict) and "jwk" in e and "retired_at" in e]


def retired_keys(key_file: Path, *, now: float | None = None) -> list[RSAKey]:
    """Public keys retired less than :data:`RETIRED_KEY_RETENTION_SECONDS` ago."""
    moment = time.time() if now is None else now
    return [
        RSAKey.import_key(entry["jwk"])
        for entry in _read_retired(key_file)
        if entry["retired_at"] + RETIRED_KEY_RETENTION_SECONDS > moment
    ]


@contextmanager
def _locked(key_file: Path) -> Iterator[None]:
    key_file.parent.mkdir(parents=True, exist_ok=True)
    with open(key_file.with_name(f".{key_file.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


@dataclass(frozen=True, slots=True)
class Rotation:
    new_kid: str
    retired_kid: str | None
    published_kids: tuple[str, ...]


def rotate_signing_key(*, pem: str | None, key_file: Path, now: float | None = None) -> Rotation:
    """Make a new current key; keep the old one's public half in the JWKS until its tokens expire.

    Running API processes pick the new key up within a second (:class:`ReloadingKeyRing`).
    """
    if pem:
        raise KeyRotationError(
            "the signing key comes from ALLIANCE_SIGNING_KEY; put the new key there instead "
            "(or unset it to use the key file)"
        )
    moment = time.time() if now is None else now
    with _locked(key_file):
        old = _with_kid(RSAKey.import_key(key_file.read_bytes())) if key_file.exists() else None
        entries = [
            e
            for e in _read_retired(key_file)
            if e["retired_at"] + RETIRED_KEY_RETENTION_SECONDS > moment
        ]
        if old is not None:
            entries.append({"jwk": old.as_dict(private=False), "retired_at": int(moment)})
        new = generate_key()
        # The retired list first: a reader that sees the new key must also find the old one.
        _write_atomically(
            retired_keys_file(key_file), json.dumps({"keys": entries}, indent=2).encode()
        )
        _write_atomically(key_file, new.as_pem(private=True))
    ring = load_key_ring(pem=None, key_file=key_file)
    return Rotation(
        new_kid=str(new.kid),
        retired_kid=str(old.kid) if old is not None else None,
        published_kids=tuple(str(k.kid) for k in ring.verifying.keys),
    )


class ReloadingKeyRing:
    """A :class:`KeyRing` that notices a rotation on disk (checked at most once a second), so
    every API process signs with the new key and still verifies the retired ones."""

    def __init__(self, *, pem: str | None, key_file: Path, check_every: float = 1.0) -> None:
        self._pem = pem
        self._key_file = key_file
        self._check_every = check_every
        self._lock = threading.Lock()
        self._ring = load_key_ring(pem=pem, key_file=key_file)
        self._stamp = self._files_stamp()
        self._checked = time.monotonic()

    def _files_stamp(self) -> tuple[int, ...]:
        stamp: list[int] = []
        for path in (self._key_file, retired_keys_file(self._key_file)):
            try:
                info = path.stat()
                stamp += [info.st_mtime_ns, info.st_size, info.st_ino]
            except FileNotFoundError:
                stamp += [0, 0, 0]
        return tuple(stamp)

    def ring(self) -> KeyRing:
        if time.monotonic() - self._checked >= self._check_every:
            with self._lock:
                self._checked = time.monotonic()
                stamp = self._files_stamp()
                if stamp != self._stamp:
                    self._ring = load_key_ring(pem=self._pem, key_file=self._key_file)
                    self._stamp = stamp
        return self._ring

    @property
    def current(self) -> RSAKey:
        return self.ring().current

    @property
    def verifying(self) -> KeySet:
        return self.ring().verifying

    @property
    def kid(self) -> str:
        return self.ring().kid

    def public_jwks(self) -> dict[str, object]:
        return self.ring().public_jwks()
