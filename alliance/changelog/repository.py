"""The change log as read by callers: always through the sharing policy's predicate."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Insert, Select, exists, func, insert, literal, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from alliance.changelog.models import SEAT_ENDED, ChangeLogEntry, Operation
from alliance.pagination import Page, count, keyset_page
from alliance.sharing import Distribution
from alliance.sharing.policy import (
    FeedColumns,
    Viewer,
    Visibility,
    VisibilityColumns,
    feed_predicate,
)

FEED_COLUMNS = FeedColumns(
    current=VisibilityColumns(
        ChangeLogEntry.owner_org_id,
        ChangeLogEntry.working_group_id,
        ChangeLogEntry.distribution,
        ChangeLogEntry.tlp,
    ),
    previous=VisibilityColumns(
        ChangeLogEntry.prev_owner_org_id,
        ChangeLogEntry.prev_working_group_id,
        ChangeLogEntry.prev_distribution,
        ChangeLogEntry.prev_tlp,
    ),
    audience_org_id=ChangeLogEntry.audience_org_id,
)


def visible_changes_query(
    viewer: Viewer,
    *,
    kinds: Sequence[str] | None = None,
    working_group_ids: Sequence[uuid.UUID] | None = None,
) -> Select[tuple[ChangeLogEntry]]:
    """The changes ``viewer`` may see, and the removals addressed to it. The policy filters
    inside the query, before any LIMIT, so a page is full whatever share of the log is
    invisible to the viewer."""
    # The policy applies the group filter too: a removal belongs to the group the object
    # was in before the change, never to the one it went to.
    stmt = select(ChangeLogEntry).where(
        feed_predicate(viewer, FEED_COLUMNS, working_group_ids=working_group_ids or None)
    )
    if kinds:
        stmt = stmt.where(ChangeLogEntry.kind.in_(kinds))
    return stmt


async def page_visible_changes(
    session: AsyncSession,
    viewer: Viewer,
    *,
    kinds: Sequence[str] | None,
    working_group_ids: Sequence[uuid.UUID] | None,
    after: int | None,
    limit: int,
) -> Page[ChangeLogEntry]:
    """The ``limit`` visible changes after sequence number ``after``, in log order."""
    return await keyset_page(
        session,
        visible_changes_query(viewer, kinds=kinds, working_group_ids=working_group_ids),
        ChangeLogEntry.seq,
        after=after,
        limit=limit,
    )


async def count_visible_changes(
    session: AsyncSession,
    viewer: Viewer,
    *,
    kinds: Sequence[str] | None,
    working_group_ids: Sequence[uuid.UUID] | None,
) -> int:
    return await count(
        session, visible_changes_query(viewer, kinds=kinds, working_group_ids=working_group_ids)
    )


def _typed(value: object, column: object) -> object:
    return literal(value, type_=column.type)  # type: ignore[attr-defined]


def insert_seat_removals(
    *,
    organisation_id: uuid.UUID,
    working_group_id: uuid.UUID,
    occurred_at: datetime,
    actor: str | None,
    request_id: str | None,
) -> Insert:
    """One INSERT … SELECT: a REMOVE row, addressed to ``organisation_id`` alone, for every
    object it saw only through its seat in ``working_group_id``.

    The objects are found in the log itself, whatever their domain: those whose latest row
    (removals addressed to someone aside) is shared WORKING_GROUP in that group, is not a
    deletion, and is not owned by the organisation. RETURNING names the rows written."""
    log = ChangeLogEntry
    later = aliased(ChangeLogEntry)
    superseded = exists().where(
        later.kind == log.kind,
        later.object_id == log.object_id,
        later.seq > log.seq,
        later.audience_org_id.is_(None),
    )
    columns = log.__table__.c
    lost = select(
        _typed(occurred_at, columns.occurred_at),
        log.kind,
        log.object_id,
        log.version,
        _typed(Operation.REMOVE, columns.operation),
        log.owner_org_id,
        log.working_group_id,
        log.distribution,
        log.tlp,
        _typed(organisation_id, columns.audience_org_id),
        _typed(actor, columns.actor),
        _typed(request_id, columns.request_id),
        _typed(SEAT_ENDED, columns.reason),
    ).where(
        log.audience_org_id.is_(None),
        log.working_group_id == working_group_id,
        log.distribution == Distribution.WORKING_GROUP,
        or_(log.owner_org_id.is_(None), log.owner_org_id != organisation_id),
        log.operation.not_in([Operation.DELETE, Operation.REMOVE]),
        ~superseded,
    )
    target = [
        "occurred_at",
        "kind",
        "object_id",
        "version",
        "operation",
        "owner_org_id",
        "working_group_id",
        "distribution",
        "tlp",
        "audience_org_id",
        "actor",
        "request_id",
        "reason",
    ]
    return (
        insert(log)
        .from_select(target, lost)
        .returning(log.seq, log.kind, log.object_id, log.version)
    )


async def latest_visibilities(
    session: AsyncSession, refs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Visibility]:
    """The visibility each object's latest change left it with, by (kind, object id): what
    the policy judges a reader of its current state by. Removals addressed to one
    organisation change no object and are passed over."""
    if not refs:
        return {}
    log = ChangeLogEntry
    latest = (
        select(func.max(log.seq).label("seq"))
        .where(log.audience_org_id.is_(None), tuple_(log.kind, log.object_id).in_(list(refs)))
        .group_by(log.kind, log.object_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            log.kind,
            log.object_id,
            log.owner_org_id,
            log.working_group_id,
            log.distribution,
            log.tlp,
        ).join(latest, log.seq == latest.c.seq)
    )
    return {
        (r.kind, r.object_id): Visibility(r.owner_org_id, r.working_group_id, r.distribution, r.tlp)
        for r in rows
    }
