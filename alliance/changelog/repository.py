"""The change log as read by callers: always through the sharing policy's predicate."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.changelog.models import ChangeLogEntry
from alliance.pagination import Page, count, keyset_page
from alliance.sharing.policy import Viewer, sql_predicate


def visible_changes_query(
    viewer: Viewer,
    *,
    kinds: Sequence[str] | None = None,
    working_group_ids: Sequence[uuid.UUID] | None = None,
) -> Select[tuple[ChangeLogEntry]]:
    """The changes ``viewer`` may see. The policy filters inside the query, before any
    LIMIT, so a page is full whatever share of the log is invisible to the viewer."""
    stmt = select(ChangeLogEntry).where(
        sql_predicate(
            viewer,
            ChangeLogEntry.owner_org_id,
            ChangeLogEntry.working_group_id,
            ChangeLogEntry.distribution,
            ChangeLogEntry.tlp,
        )
    )
    if kinds:
        stmt = stmt.where(ChangeLogEntry.kind.in_(kinds))
    if working_group_ids:
        stmt = stmt.where(ChangeLogEntry.working_group_id.in_(working_group_ids))
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
