"""Removing stored files no row refers to: the orphan collector.

Blob files (and their thumbnails) and evidence files are written, content-addressed, before
the row that refers to them, so a transaction that rolls back (or a process that dies) leaves
a file nobody will ever read. The collector walks each filesystem store in pages, asks the
database which of a page's hashes a row still stores, and removes the other files once they
are older than the grace period (``ALLIANCE_BLOBS_ORPHAN_GRACE_SECONDS``): the file of an
upload whose transaction has not committed yet is younger than that. A file is named by its
content, so several rows may share it; it goes only when no row at all stores its hash. A
thumbnail goes with its blob's bytes. Temporary files left by interrupted writes go too.

The age is checked again as a file is taken away. Every write that precedes a new row writes
the file afresh (a new modification time), and the collector renames a file before deleting
it: if the renamed file turns out young, a writer renewed it in the meantime and it is put
back (its bytes are the same, being named by them).

Only filesystem stores can be listed here; an S3 blob store is refused (``UnsupportedStore``).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alliance.blobs import repository as blobs_repo
from alliance.blobs.errors import UnsupportedStore
from alliance.blobs.storage import content_of_key, is_temporary_key
from alliance.cases import evidence_references, evidence_store
from alliance.config import Settings

SWEEP_TASK = "blobs.sweep_orphans"
DEFAULT_PAGE_SIZE = 500
_TAKEN = ".gc-"
logger = logging.getLogger("alliance.blobs")


class RemovalReason(enum.StrEnum):
    UNREFERENCED = "UNREFERENCED"
    LEFTOVER_TEMPORARY = "LEFTOVER_TEMPORARY"


@dataclass(frozen=True, slots=True)
class Removal:
    store: str
    key: str
    size: int
    reason: RemovalReason


@dataclass(slots=True)
class SweepReport:
    dry_run: bool
    grace_seconds: float
    examined: int = 0
    referenced: int = 0
    within_grace: int = 0
    removed: list[Removal] = field(default_factory=list)

    @property
    def bytes_freed(self) -> int:
        return sum(r.size for r in self.removed)


@dataclass(frozen=True, slots=True)
class _Entry:
    key: str
    path: Path
    size: int
    modified: float
    sha256: str | None  # None: a temporary file, no row ever refers to it


@dataclass(frozen=True, slots=True)
class _Store:
    name: str
    root: Path
    content_of: Callable[[str], str | None]
    is_temporary: Callable[[str], bool]
    referenced: Callable[[AsyncSession, Collection[str]], Awaitable[set[str]]]


def _stores(settings: Settings) -> list[_Store]:
    if settings.blobs.url and settings.blobs.url.startswith("s3://"):
        raise UnsupportedStore(
            "the orphan collector supports the filesystem blob store only; ALLIANCE_BLOBS_URL "
            "is an s3:// bucket, which it cannot list, so nothing was removed"
        )
    return [
        _Store(
            "blobs",
            settings.blobs_dir,
            content_of_key,
            is_temporary_key,
            blobs_repo.referenced_sha256s,
        ),
        _Store(
            "evidence",
            evidence_store.evidence_dir(settings.data_dir),
            evidence_store.content_of,
            evidence_store.is_temporary,
            evidence_references.referenced_sha256s,
        ),
    ]


def _walk(root: Path, relative: str = "") -> Iterator[tuple[str, os.stat_result]]:
    """Every regular file under ``root`` (symbolic links are not followed), directory by
    directory as the OS lists them, never the whole tree at once."""
    try:
        scanner = os.scandir(root / relative if relative else root)
    except (FileNotFoundError, NotADirectoryError):
        return
    with scanner:
        for entry in scanner:
            name = f"{relative}/{entry.name}" if relative else entry.name
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(root, name)
            elif entry.is_file(follow_symlinks=False):
                try:
                    yield name, entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue


def _entries(store: _Store) -> Iterator[_Entry]:
    """The files of the store it made; anything else found there is left alone."""
    for key, stat in _walk(store.root):
        taken = key.rsplit("/", 1)[-1].startswith(_TAKEN)
        sha = None if taken else store.content_of(key)
        if sha is None and not (taken or store.is_temporary(key)):
            continue
        yield _Entry(key, store.root / key, stat.st_size, stat.st_mtime, sha)


def _pages(entries: Iterator[_Entry], size: int) -> Iterator[list[_Entry]]:
    page: list[_Entry] = []
    for entry in entries:
        page.append(entry)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page


class _Outcome(enum.Enum):
    REMOVED = enum.auto()
    RENEWED = enum.auto()  # a writer wrote it again since it was listed: young once more
    GONE = enum.auto()


def _take_away(path: Path, cutoff: float) -> _Outcome:
    """Delete ``path`` if it is still older than ``cutoff``."""
    taken = path.with_name(f"{_TAKEN}{secrets.token_hex(8)}.tmp")
    try:
        os.rename(path, taken)
    except FileNotFoundError:
        return _Outcome.GONE
    if taken.stat().st_mtime >= cutoff:
        os.replace(taken, path)
        return _Outcome.RENEWED
    taken.unlink()
    return _Outcome.REMOVED


def count_files(settings: Settings) -> int:
    """How many files a sweep will examine (for a progress bar)."""
    return sum(sum(1 for _ in _entries(store)) for store in _stores(settings))


async def sweep(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    grace_seconds: float | None = None,
    dry_run: bool = False,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress: Callable[[int], None] | None = None,
) -> SweepReport:
    """Remove (with ``dry_run``, only list) the files of the blob and evidence stores that no
    row refers to and that are older than the grace period (default: the setting).

    Each page is looked up in a short read-only session of its own, so a large store holds
    no transaction open while its files are walked and removed.
    """
    grace = settings.blobs.orphan_grace_seconds if grace_seconds is None else grace_seconds
    stores = _stores(settings)
    report = SweepReport(dry_run=dry_run, grace_seconds=grace)
    cutoff = time.time() - grace
    for store in stores:
        pages = _pages(_entries(store), page_size)
        while page := await asyncio.to_thread(next, pages, None):
            old = [e for e in page if e.modified < cutoff]
            report.examined += len(page)
            report.within_grace += len(page) - len(old)
            hashes = {e.sha256 for e in old if e.sha256 is not None}
            async with sessions() as session:
                referenced = await store.referenced(session, hashes)
            doomed: list[tuple[_Entry, RemovalReason]] = []
            for entry in old:
                if entry.sha256 is None:
                    doomed.append((entry, RemovalReason.LEFTOVER_TEMPORARY))
                elif entry.sha256 in referenced:
                    report.referenced += 1
                else:
                    doomed.append((entry, RemovalReason.UNREFERENCED))
            if not dry_run:
                outcomes = await asyncio.to_thread(
                    lambda d=doomed: [_take_away(e.path, cutoff) for e, _ in d]
                )
                report.within_grace += outcomes.count(_Outcome.RENEWED)
                doomed = [d for d, o in zip(doomed, outcomes, strict=True) if o is _Outcome.REMOVED]
            report.removed.extend(Removal(store.name, e.key, e.size, why) for e, why in doomed)
            if progress is not None:
                progress(len(page))
    if report.removed and not dry_run:
        logger.info(
            "removed %d stored files no row refers to (%d bytes)",
            len(report.removed),
            report.bytes_freed,
        )
    return report
