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

from sqlalchemy import event, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from alliance.audit import service as audit
from alliance.changelog.models import ChangeLogEntry, Operation
from alliance.db import AllianceSession, utcnow
from alliance.observability.context import current_actor, current_request_id
from alliance.sharing import TLP, Distribution

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
) -> None:
    """Append a change to this transaction; it is written if, and only if, the transaction commits."""
    change = Change(
        kind=kind,
        object_id=str(object_id),
        version=version,
        operation=operation,
        distribution=distribution,
        tlp=tlp,
        owner_org_id=owner_org_id,
        working_group_id=working_group_id,
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
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANGE_LOG_LOCK_KEY})
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
            "actor": actor,
            "request_id": request_id,
        }
        for c in changes
    ]
    session.execute(insert(ChangeLogEntry), rows)
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
            },
        )


async def write_pending_changes(session: AsyncSession) -> None:
    """Write buffered changes now rather than at commit (the commit-order lock is taken here)."""
    await session.run_sync(_write_pending_changes)


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
