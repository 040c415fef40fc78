"""Keeping the index equal to the database, from the change log.

The indexer follows the change log from its cursor (``consumer_cursor``, name
:data:`CURSOR_NAME`). A batch reads the changes after the cursor, rebuilds the documents
of the objects they touch from the database as it is now (a missing object is deleted),
sends them with the change's sequence number as external version, and moves the cursor in
the same transaction. If the engine is down the batch raises :class:`SearchUnavailable`,
the transaction rolls back and the cursor stays: the next attempt redoes the batch, which
is harmless because versions make every write idempotent. Nothing is lost, since the
change log, not a queue, is the source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from alliance.changelog import service as changelog
from alliance.db import unit_of_work
from alliance.search import repository as repo
from alliance.search.documents import document_id, sources
from search.backend import SearchBackend
from search.query import Delete, IndexAction, Upsert

CURSOR_NAME = "search.indexer"
BATCH_SIZE = 500


@dataclass(frozen=True, slots=True)
class BatchReport:
    changes: int
    applied: int
    stale: int
    cursor: int
    locked: bool = False  # another indexer holds the cursor: nothing done


async def actions_for(
    session: AsyncSession, touched: dict[tuple[str, str], int]
) -> list[IndexAction]:
    """Index actions for ``(kind, object id) -> newest change seq``: the objects' documents
    as they are now, or deletes for those that are gone. Kinds without a builder are skipped."""
    registry = sources()
    by_kind: dict[str, list[str]] = {}
    for kind, object_id in touched:
        if kind in registry:
            by_kind.setdefault(kind, []).append(object_id)
    actions: list[IndexAction] = []
    for kind, ids in by_kind.items():
        found = {d.object_id: d for d in await registry[kind].build(session, ids)}
        for object_id in ids:
            version = touched[(kind, object_id)]
            document = found.get(object_id)
            actions.append(
                Upsert(document, version)
                if document is not None
                else Delete(document_id(kind, object_id), version)
            )
    return actions


async def index_batch(
    session: AsyncSession, backend: SearchBackend, *, batch_size: int = BATCH_SIZE
) -> BatchReport:
    """One batch in the caller's transaction (which moves the cursor when it commits)."""
    cursor = await repo.lock_cursor(session, CURSOR_NAME)
    if cursor is None:
        return BatchReport(0, 0, 0, -1, locked=True)
    changes = await repo.touched_after(session, cursor.seq, batch_size)
    if not changes:
        if cursor.last_error is not None:
            # Caught up, so any error kept is stale: a failed run can record its error after
            # a later run has already written what it could not.
            await repo.set_cursor(session, CURSOR_NAME, cursor.seq)
        return BatchReport(0, 0, 0, cursor.seq)
    touched: dict[tuple[str, str], int] = {}
    for seq, kind, object_id in changes:
        touched[(kind, object_id)] = seq
    last = changes[-1][0]
    outcome = await backend.bulk(await actions_for(session, touched))
    await repo.set_cursor(session, CURSOR_NAME, last)
    return BatchReport(len(changes), outcome.applied, outcome.stale, last)


async def drain(
    sessions: async_sessionmaker[AsyncSession],
    backend: SearchBackend,
    *,
    batch_size: int = BATCH_SIZE,
    max_batches: int | None = None,
) -> list[BatchReport]:
    """Batches, one transaction each, until the log is drained (or ``max_batches``)."""
    reports: list[BatchReport] = []
    while max_batches is None or len(reports) < max_batches:
        async with unit_of_work(sessions) as session:
            report = await index_batch(session, backend, batch_size=batch_size)
        reports.append(report)
        if report.locked or report.changes < batch_size:
            break
    return reports


async def record_failure(session: AsyncSession, error: str) -> None:
    await repo.record_error(session, CURSOR_NAME, error)


@dataclass(frozen=True, slots=True)
class IndexStatus:
    backend: str
    head: int
    cursor: int
    lag: int
    updated_at: datetime | None
    last_error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "change_log_head": self.head,
            "indexed_cursor": self.cursor,
            "lag": self.lag,
            "cursor_updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "last_error": self.last_error,
        }


async def status(session: AsyncSession, backend_name: str) -> IndexStatus:
    head = await changelog.head(session)
    cursor = await repo.read_cursor(session, CURSOR_NAME)
    seq = cursor.seq if cursor else 0
    return IndexStatus(
        backend=backend_name,
        head=head,
        cursor=seq,
        lag=max(0, head - seq),
        updated_at=cursor.updated_at if cursor else None,
        last_error=cursor.last_error if cursor else None,
    )


@dataclass(frozen=True, slots=True)
class ReindexReport:
    documents: int
    version: int  # the change-log head the new index was built at


async def reindex(
    sessions: async_sessionmaker[AsyncSession],
    backend: SearchBackend,
    *,
    page_size: int = 500,
    progress: Callable[[str, int], None] | None = None,
) -> ReindexReport:
    """Build a new index from the database beside the live one, then swap it in.

    Every document is written at the head ``H`` read before the database is: its state is
    at least as new as ``H``, and any later change (seq > ``H``) outranks it. After the swap
    the cursor is set to ``H``: back, if the live indexer had gone past it (what it wrote
    to the old index meanwhile is replayed into the new one), or forward, since everything
    up to ``H`` is in the new index already. The cursor's row lock, held across the swap,
    keeps a batch of the live indexer from straddling it.
    """
    async with sessions() as session:
        head = await changelog.head(session)
    rebuild = await backend.rebuild()
    written = 0
    try:
        for kind, source in sorted(sources().items()):
            after: str | None = None
            while True:
                async with sessions() as session:
                    ids, after = await source.list_all(session, after, page_size)
                    documents = await source.build(session, ids)
                await rebuild.bulk([Upsert(d, head) for d in documents])
                written += len(documents)
                if progress:
                    progress(kind, len(documents))
                if after is None:
                    break
        async with unit_of_work(sessions) as session:
            await repo.lock_cursor(session, CURSOR_NAME, wait=True)
            await rebuild.finish()
            await repo.set_cursor(session, CURSOR_NAME, head)
    except BaseException:
        await rebuild.abort()
        raise
    return ReindexReport(written, head)
