"""All SQL of the guides domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.guides.models import (
    Guide,
    GuideNotification,
    GuidePhoto,
    GuideStatus,
    GuideSubscription,
    GuideTellIndicator,
    GuideTranslation,
    GuideVersion,
)
from alliance.pagination import Page, count, keyset_page
from alliance.sharing.policy import Viewer, sql_predicate


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    return sql_predicate(
        viewer, Guide.owner_org_id, Guide.working_group_id, Guide.distribution, Guide.tlp
    )


def readable(viewer: Viewer) -> ColumnElement[bool]:
    """Guides the viewer may see (the sharing policy) that are published, or whose unpublished
    draft it may read as their owner or a seat-holder of their group."""
    workflow = [Guide.published_version.is_not(None), Guide.owner_org_id == viewer.organisation_id]
    if viewer.working_group_ids:
        workflow.append(Guide.working_group_id.in_(viewer.working_group_ids))
    return visible_to(viewer) & or_(*workflow)


def guides_query(
    viewer: Viewer,
    *,
    statuses: Sequence[GuideStatus] | None = None,
    working_group_id: uuid.UUID | None = None,
    brand: str | None = None,
) -> Select[tuple[Guide]]:
    stmt = select(Guide).where(readable(viewer))
    if statuses:
        stmt = stmt.where(Guide.status.in_(statuses))
    if working_group_id is not None:
        stmt = stmt.where(Guide.working_group_id == working_group_id)
    return stmt


async def page_guides(
    session: AsyncSession,
    viewer: Viewer,
    *,
    statuses: Sequence[GuideStatus] | None,
    working_group_id: uuid.UUID | None,
    after: uuid.UUID | None,
    limit: int,
) -> Page[Guide]:
    stmt = guides_query(viewer, statuses=statuses, working_group_id=working_group_id)
    return await keyset_page(session, stmt, Guide.id, after=after, limit=limit)


async def count_guides(
    session: AsyncSession,
    viewer: Viewer,
    *,
    statuses: Sequence[GuideStatus] | None,
    working_group_id: uuid.UUID | None,
) -> int:
    return await count(
        session, guides_query(viewer, statuses=statuses, working_group_id=working_group_id)
    )


async def readable_guide(
    session: AsyncSession, viewer: Viewer, guide_id: uuid.UUID
) -> Guide | None:
    return await session.scalar(select(Guide).where(Guide.id == guide_id, readable(viewer)))


async def readable_guides_by_ids(
    session: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[Guide]:
    if not ids:
        return []
    return list(await session.scalars(select(Guide).where(Guide.id.in_(ids), readable(viewer))))


async def guide_for_update(session: AsyncSession, guide_id: uuid.UUID) -> Guide | None:
    return await session.scalar(select(Guide).where(Guide.id == guide_id).with_for_update())


async def guides_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Guide]:
    return list(await session.scalars(select(Guide).where(Guide.id.in_(ids))))


async def guides_after(session: AsyncSession, after: uuid.UUID | None, limit: int) -> list[Guide]:
    stmt = select(Guide).order_by(Guide.id).limit(limit)
    if after is not None:
        stmt = stmt.where(Guide.id > after)
    return list(await session.scalars(stmt))


async def version(session: AsyncSession, guide_id: uuid.UUID, number: int) -> GuideVersion | None:
    return await session.scalar(
        select(GuideVersion).where(GuideVersion.guide_id == guide_id, GuideVersion.number == number)
    )


async def versions_of(session: AsyncSession, guide_id: uuid.UUID) -> list[GuideVersion]:
    return list(
        await session.scalars(
            select(GuideVersion)
            .where(GuideVersion.guide_id == guide_id)
            .order_by(GuideVersion.number)
        )
    )


async def published_versions(
    session: AsyncSession, guides: Sequence[Guide]
) -> dict[uuid.UUID, GuideVersion]:
    wanted = [(g.id, g.published_version) for g in guides if g.published_version is not None]
    if not wanted:
        return {}
    rows = await session.scalars(
        select(GuideVersion).where(
            or_(*((GuideVersion.guide_id == g) & (GuideVersion.number == n) for g, n in wanted))
        )
    )
    return {v.guide_id: v for v in rows}


async def translations(
    session: AsyncSession, guide_id: uuid.UUID, language: str | None = None
) -> list[GuideTranslation]:
    stmt = select(GuideTranslation).where(GuideTranslation.guide_id == guide_id)
    if language is not None:
        stmt = stmt.where(GuideTranslation.language == language)
    return list(await session.scalars(stmt.order_by(GuideTranslation.section)))


async def translations_of_guides(
    session: AsyncSession, guide_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[GuideTranslation]]:
    found: dict[uuid.UUID, list[GuideTranslation]] = {g: [] for g in guide_ids}
    if guide_ids:
        rows = await session.scalars(
            select(GuideTranslation)
            .where(GuideTranslation.guide_id.in_(guide_ids))
            .order_by(GuideTranslation.language, GuideTranslation.section)
        )
        for row in rows:
            found[row.guide_id].append(row)
    return found


async def photos(session: AsyncSession, guide_id: uuid.UUID) -> list[GuidePhoto]:
    return list(
        await session.scalars(
            select(GuidePhoto).where(GuidePhoto.guide_id == guide_id).order_by(GuidePhoto.id)
        )
    )


async def photos_of_guides(
    session: AsyncSession, guide_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[GuidePhoto]]:
    found: dict[uuid.UUID, list[GuidePhoto]] = {g: [] for g in guide_ids}
    if guide_ids:
        rows = await session.scalars(
            select(GuidePhoto).where(GuidePhoto.guide_id.in_(guide_ids)).order_by(GuidePhoto.id)
        )
        for row in rows:
            found[row.guide_id].append(row)
    return found


async def photos_of_blob(session: AsyncSession, blob_id: uuid.UUID) -> list[GuidePhoto]:
    return list(await session.scalars(select(GuidePhoto).where(GuidePhoto.blob_id == blob_id)))


async def subscriptions(session: AsyncSession, guide_id: uuid.UUID) -> list[GuideSubscription]:
    return list(
        await session.scalars(
            select(GuideSubscription).where(GuideSubscription.guide_id == guide_id)
        )
    )


async def subscription(
    session: AsyncSession, guide_id: uuid.UUID, org_id: uuid.UUID, person_id: uuid.UUID | None
) -> GuideSubscription | None:
    stmt = select(GuideSubscription).where(
        GuideSubscription.guide_id == guide_id, GuideSubscription.organisation_id == org_id
    )
    stmt = stmt.where(
        GuideSubscription.person_id.is_(None)
        if person_id is None
        else GuideSubscription.person_id == person_id
    )
    return await session.scalar(stmt)


def notifications_query(
    org_id: uuid.UUID, person_id: uuid.UUID | None, *, unread_only: bool
) -> Select[tuple[GuideNotification]]:
    """Notifications addressed to the organisation as a whole, or to this person of it."""
    stmt = select(GuideNotification).where(GuideNotification.organisation_id == org_id)
    mine = GuideNotification.person_id.is_(None)
    if person_id is not None:
        mine = mine | (GuideNotification.person_id == person_id)
    stmt = stmt.where(mine)
    if unread_only:
        stmt = stmt.where(GuideNotification.read_at.is_(None))
    return stmt


async def page_notifications(
    session: AsyncSession,
    org_id: uuid.UUID,
    person_id: uuid.UUID | None,
    *,
    unread_only: bool,
    after: uuid.UUID | None,
    limit: int,
) -> Page[GuideNotification]:
    stmt = notifications_query(org_id, person_id, unread_only=unread_only)
    return await keyset_page(session, stmt, GuideNotification.id, after=after, limit=limit)


async def count_notifications(
    session: AsyncSession, org_id: uuid.UUID, person_id: uuid.UUID | None, *, unread_only: bool
) -> int:
    return await count(session, notifications_query(org_id, person_id, unread_only=unread_only))


async def due_for_review(session: AsyncSession, today: date, limit: int) -> list[Guide]:
    return list(
        await session.scalars(
            select(Guide)
            .where(
                Guide.review_by.is_not(None),
                Guide.review_by < today,
                Guide.stale_since.is_(None),
                Guide.status != GuideStatus.ARCHIVED,
            )
            .order_by(Guide.id)
            .limit(limit)
            .with_for_update()
        )
    )


async def tell_links(
    session: AsyncSession, guide_id: uuid.UUID, *, live_only: bool = True
) -> list[GuideTellIndicator]:
    stmt = select(GuideTellIndicator).where(GuideTellIndicator.guide_id == guide_id)
    if live_only:
        stmt = stmt.where(GuideTellIndicator.retired_at.is_(None))
    return list(await session.scalars(stmt.order_by(GuideTellIndicator.id)))
