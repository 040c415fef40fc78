"""Evidence files, stored content-addressed by SHA-256 under ``<data dir>/evidence/``.

Each file is written to a temporary name in the store and renamed into place once its hash is
known (atomic on one file system), so a reader never sees half a file, and the same bytes
received twice are stored once. What was received when and by whom is recorded in the
database row and the case manifest, never in the store, whose content is only bytes.

The store never interprets a file: evidence is delivered inside case packages as an
attachment, never served inline (a received HTML file stays an inert file).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from alliance.errors import FieldProblem, InvalidInput

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
_READ_BLOCK = 256 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
INCOMING = "incoming"


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    size: int


def evidence_dir(data_dir: Path) -> Path:
    return data_dir / "evidence"


def content_of(relative: str) -> str | None:
    """The SHA-256 a file of the store (a path relative to it) holds; None if not a stored file."""
    shard, _, name = relative.partition("/")
    return name if _SHA256.fullmatch(name) and shard == name[:2] else None


def is_temporary(relative: str) -> bool:
    """Whether a path relative to the store is a file still being received (or left by a
    write that was interrupted)."""
    folder, _, name = relative.partition("/")
    return folder == INCOMING and bool(name) and "/" not in name


def path_of(data_dir: Path, sha256: str) -> Path:
    if not _SHA256.fullmatch(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return evidence_dir(data_dir) / sha256[:2] / sha256


def too_big(field: str, max_bytes: int) -> InvalidInput:
    return InvalidInput([FieldProblem((field,), "TOO_LARGE", f"must be at most {max_bytes} bytes")])


async def store(
    data_dir: Path,
    read: Callable[[int], Awaitable[bytes]],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    field: str = "file",
) -> StoredFile:
    """Store what ``read`` yields (read by blocks), refusing more than ``max_bytes``."""
    root = evidence_dir(data_dir)
    incoming = root / INCOMING
    incoming.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=incoming)
    tmp = Path(name)
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out:
            while block := await read(_READ_BLOCK):
                size += len(block)
                if size > max_bytes:
                    raise too_big(field, max_bytes)
                digest.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        sha = digest.hexdigest()
        target = path_of(data_dir, sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return StoredFile(sha, size)


async def store_bytes(
    data_dir: Path, content: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> StoredFile:
    position = 0

    async def read(n: int) -> bytes:
        nonlocal position
        block = content[position : position + n]
        position += len(block)
        return block

    return await store(data_dir, read, max_bytes=max_bytes)


def read_bytes(data_dir: Path, sha256: str) -> bytes:
    """The stored bytes, checked against their name (a corrupted store is an error, loudly)."""
    content = path_of(data_dir, sha256).read_bytes()
    if hashlib.sha256(content).hexdigest() != sha256:
        raise OSError(f"evidence {sha256} is corrupted in the store")
    return content
