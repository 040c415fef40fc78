"""The change log (outbox): every write of a shared object appends one row in its own transaction.

Domains call :func:`record_change`; the row is buffered on the session and written
when the session commits. On PostgreSQL the writer first takes a transaction-level
advisory lock, so sequence numbers become visible in commit order: a reader that has
seen ``seq = N`` can never later see a row ``< N`` appear. SQLite serialises writers
by itself. The lock is held only from the change-log insert to the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from alliance.audit import service as audit
from alliance.changelog import repository as repo
from alliance.changelog.models import SEAT_ENDED, ChangeLogEntry, Operation
from alliance.db import AllianceSession, insert_rows, utcnow
from alliance.observability.context import current_actor, current_request_id
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import FeedView, Viewer, Visibility, feed_view, narrows

_PENDING = "alliance.pending_changes"
# Any constant works; it only has to be the same for every writer of change_log.
CHANGE_LOG_LOCK_KEY = 0x416C6C69


@dataclass(frozen=True, slots=True)
class Change:
    kind: str
    object_id: str
    version: int
    operation: Operation
    distribution: Distribution
    tlp: TLP
    owner_org_id: uuid.UUID | None = None
    working_group_id: uuid.UUID | None = None
    # The visibility before this change, kept only when the change narrowed it.
    previous: Visibility | None = None
    reason: str | None = None


def record_change(
    session: AsyncSession,
    *,
    kind: str,
    object_id: uuid.UUID | str,
    version: int,
    operation: Operation,
    distribution: Distribution,
    tlp: TLP,
    owner_org_id: uuid.UUID | None = None,
    working_group_id: uuid.UUID | None = None,
    previous: Visibility | None = None,
    reason: str | None = None,
) -> None:
    """Append a change to this transaction; it is written if, and only if, the transaction commits.

    ``previous`` is the object's visibility before this change. When the change narrows it,
    the row keeps it, and the feed tells whoever lost sight of the object to drop it.
    ``reason`` says why a REVOKE or DELETE happened (a tombstone is never silent).
    """
    current = Visibility(owner_org_id, working_group_id, distribution, tlp)
    change = Change(
        kind=kind,
        object_id=str(object_id),
        version=version,
        operation=operation,
        distribution=distribution,
        tlp=tlp,
        owner_org_id=owner_org_id,
        working_group_id=working_group_id,
        previous=previous if previous is not None and narrows(previous, current) else None,
        reason=reason,
    )
    session.sync_session.info.setdefault(_PENDING, []).append(change)


def pending_changes(session: AsyncSession) -> Sequence[Change]:
    return tuple(session.sync_session.info.get(_PENDING, ()))


# insert=True: this hook runs before every other before_commit hook, so the audit entries
# it adds are written by the audit log's hook after it, and writers always take the change
# log's lock before the audit log's (never the reverse, which could deadlock).
@event.listens_for(AllianceSession, "before_commit", insert=True)
def _write_pending_changes(session: Session) -> None:
    changes: list[Change] = session.info.pop(_PENDING, [])
    if not changes:
        return
    session.flush()
    _take_commit_order_lock(session)
    actor, request_id, now = current_actor(), current_request_id(), utcnow()
    rows: list[dict[str, Any]] = [
        {
            "occurred_at": now,
            "kind": c.kind,
            "object_id": c.object_id,
            "version": c.version,
            "operation": c.operation,
            "distribution": c.distribution,
            "tlp": c.tlp,
            "owner_org_id": c.owner_org_id,
            "working_group_id": c.working_group_id,
            **_previous_columns(c.previous),
            "reason": c.reason,
            "actor": actor,
            "request_id": request_id,
        }
        for c in changes
    ]
    insert_rows(session, ChangeLogEntry.__table__, rows)  # seq from its default
    for c in changes:
        audit.record(
            session,
            action=f"{c.kind}.{c.operation.value.lower()}",
            target_kind=c.kind,
            target_id=c.object_id,
            detail={
                "version": c.version,
                "distribution": c.distribution,
                "tlp": c.tlp,
                "owner_org_id": c.owner_org_id,
                "working_group_id": c.working_group_id,
                **({"previous": _previous_columns(c.previous)} if c.previous else {}),
                **({"reason": c.reason} if c.reason else {}),
            },
        )


def _take_commit_order_lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANGE_LOG_LOCK_KEY})


def _previous_columns(previous: Visibility | None) -> dict[str, Any]:
    return {
        "prev_owner_org_id": previous.owner_org_id if previous else None,
        "prev_working_group_id": previous.working_group_id if previous else None,
        "prev_distribution": previous.distribution if previous else None,
        "prev_tlp": previous.tlp if previous else None,
    }


async def write_pending_changes(session: AsyncSession) -> None:
    """Write buffered changes now rather than at commit (the commit-order lock is taken here)."""
    await session.run_sync(_write_pending_changes)


async def record_seat_removals(
    session: AsyncSession, *, organisation_id: uuid.UUID, working_group_id: uuid.UUID
) -> int:
    """An organisation's seat in a working group ended: append, in this transaction, one
    REMOVE row addressed to it alone for every object it could see only through that seat.

    One INSERT … SELECT over the log, so it covers every kind of object. Changes recorded
    earlier in the transaction are written first (they come first in the log), and the
    commit-order lock is taken as for any change-log insert. Returns the rows written.
    """
    await write_pending_changes(session)

    def insert_removals(sync: Session) -> int:
        _take_commit_order_lock(sync)
        written = sync.execute(
            repo.insert_seat_removals(
                organisation_id=organisation_id,
                working_group_id=working_group_id,
                occurred_at=utcnow(),
                actor=current_actor(),
                request_id=current_request_id(),
            )
        ).all()
        for row in written:
            audit.record(
                sync,
                action=f"{row.kind}.{Operation.REMOVE.value.lower()}",
                target_kind=row.kind,
                target_id=row.object_id,
                detail={
                    "version": row.version,
                    "audience_org_id": organisation_id,
                    "working_group_id": working_group_id,
                    "reason": SEAT_ENDED,
                },
            )
        return len(written)

    return await session.run_sync(insert_removals)


@event.listens_for(AllianceSession, "after_soft_rollback")
def _drop_pending_changes(session: Session, _previous_transaction: Any) -> None:
    session.info.pop(_PENDING, None)


async def head(session: AsyncSession) -> int:
    """The highest committed sequence number (0 when the log is empty)."""
    return int(await session.scalar(select(func.coalesce(func.max(ChangeLogEntry.seq), 0))) or 0)


async def read_after(session: AsyncSession, cursor: int, limit: int) -> list[ChangeLogEntry]:
    """Committed changes after ``cursor``, in sequence order."""
    rows = await session.scalars(
        select(ChangeLogEntry)
        .where(ChangeLogEntry.seq > cursor)
        .order_by(ChangeLogEntry.seq)
        .limit(limit)
    )
    return list(rows)


def as_seen_by(viewer: Viewer, entry: ChangeLogEntry) -> FeedView:
    """How a row the feed returned reaches ``viewer``: as the change, or as a removal."""
    previous = (
        Visibility(
            entry.prev_owner_org_id,
            entry.prev_working_group_id,
            entry.prev_distribution,
            entry.prev_tlp,
        )
        if entry.prev_distribution is not None and entry.prev_tlp is not None
        else None
    )
    return feed_view(
        viewer,
        Visibility(entry.owner_org_id, entry.working_group_id, entry.distribution, entry.tlp),
        previous,
        entry.audience_org_id,
    )
