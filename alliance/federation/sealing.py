"""Peers' client secrets sealed at rest, so a database dump or backup does not hold the
credentials other instances issued us.

A sealed value is ``fernet:v1:<Fernet token>``. A stored value without the prefix was
written before secrets were sealed: it is read as it is, and the pull seals it in its next
commit. The key is ``ALLIANCE_FEDERATION_SEALING_KEY`` when set, otherwise the key file
(``<data dir>/keys/federation-sealing.key`` by default), made with mode 0600 on first use.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken

from alliance.errors import DomainError

if TYPE_CHECKING:
    from alliance.config import Settings

PREFIX = "fernet:v1:"


class SealingKeyMismatch(DomainError):
    """A sealed secret does not open with this instance's sealing key."""

    code = "SEALING_KEY_MISMATCH"

    def __init__(self) -> None:
        super().__init__(
            "the peer's client secret was sealed with another key: set "
            "ALLIANCE_FEDERATION_SEALING_KEY (or restore the key file) to the key that sealed "
            "it, or register the peer again with its secret "
            "('alliance peers remove NAME', then 'alliance peers add NAME …')"
        )


class SealingKeyUnusable(DomainError):
    """The sealing key file holds something that is not a Fernet key."""

    code = "SEALING_KEY_UNUSABLE"


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def seal(key: Fernet, secret: str) -> str:
    return PREFIX + key.encrypt(secret.encode("utf-8")).decode("ascii")


def unseal(key: Fernet, stored: str) -> str:
    """The secret behind a stored value; a value stored before sealing is returned as is."""
    if not is_sealed(stored):
        return stored
    try:
        return key.decrypt(stored.removeprefix(PREFIX)).decode("utf-8")
    except (InvalidToken, UnicodeDecodeError) as exc:
        raise SealingKeyMismatch() from exc


# --- the key -----------------------------------------------------------------------------------


def _key_from_file(key_file: Path) -> Fernet:
    try:
        return Fernet(key_file.read_bytes().strip())
    except ValueError as exc:
        raise SealingKeyUnusable(
            f"the sealing key file {key_file} does not hold a Fernet key: restore the key "
            "that sealed the peers' secrets, or set ALLIANCE_FEDERATION_SEALING_KEY"
        ) from exc


def load_sealing_key(*, key: str | None, key_file: Path) -> Fernet:
    """The key from settings if given; otherwise the key file, made when absent.

    Concurrent first uses (an API process, a worker, the CLI) all end up with the one key
    that landed first: each writes its own temporary file and links it into place.
    """
    if key:
        return Fernet(key)
    try:
        if key_file.exists():
            return _key_from_file(key_file)
        return _make_key_file(key_file)
    except OSError as exc:
        raise SealingKeyUnusable(
            f"the sealing key file {key_file} cannot be read or made ({exc.strerror}): fix "
            "its directory's permissions, or set ALLIANCE_FEDERATION_SEALING_KEY"
        ) from exc


def _make_key_file(key_file: Path) -> Fernet:
    key_file.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp makes the file with mode 0600, under a name no other process writes to.
    fd, tmp_name = tempfile.mkstemp(dir=key_file.parent, prefix=f".{key_file.name}.")
    tmp = Path(tmp_name)
    made = Fernet.generate_key()
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(made + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, key_file)
        except FileExistsError:
            return _key_from_file(key_file)
    finally:
        tmp.unlink(missing_ok=True)
    return Fernet(made)


def sealing_key(settings: Settings) -> Fernet:
    secret = settings.federation.sealing_key
    return load_sealing_key(
        key=secret.get_secret_value() if secret is not None else None,
        key_file=settings.federation_sealing_key_file,
    )
