"""The webhooks' SQL: subscriptions, deliveries, attempts, leases."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.indicators.models import (
    Indicator,
    IndicatorAssertion,
    IndicatorProposal,
    IndicatorReaction,
)
from alliance.pagination import Page, count, keyset_page
from alliance.webhooks.models import (
    DeliveryStatus,
    SubscriptionStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)


async def subscription(
    session: AsyncSession, subscription_id: uuid.UUID
) -> WebhookSubscription | None:
    return await session.get(WebhookSubscription, subscription_id)


async def page_subscriptions(
    session: AsyncSession, organisation_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
) -> Page[WebhookSubscription]:
    stmt = select(WebhookSubscription).where(WebhookSubscription.organisation_id == organisation_id)
    return await keyset_page(session, stmt, WebhookSubscription.id, after=after, limit=limit)


async def count_subscriptions(session: AsyncSession, organisation_id: uuid.UUID) -> int:
    return await count(
        session,
        select(WebhookSubscription.id).where(
            WebhookSubscription.organisation_id == organisation_id
        ),
    )


async def delivery(session: AsyncSession, delivery_id: uuid.UUID) -> WebhookDelivery | None:
    return await session.get(WebhookDelivery, delivery_id)


async def page_deliveries(
    session: AsyncSession, subscription_id: uuid.UUID, *, before: uuid.UUID | None, limit: int
) -> Page[WebhookDelivery]:
    """The delivery log, newest first (ids are time-ordered)."""
    stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if before is not None:
        stmt = stmt.where(WebhookDelivery.id < before)
    rows = list(
        (await session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit + 1))).all()
    )
    return Page(
        items=rows[:limit], has_next_page=len(rows) > limit, has_previous_page=before is not None
    )


async def count_deliveries(session: AsyncSession, subscription_id: uuid.UUID) -> int:
    return await count(
        session,
        select(WebhookDelivery.id).where(WebhookDelivery.subscription_id == subscription_id),
    )


async def attempts_of(
    session: AsyncSession, delivery_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[WebhookAttempt]]:
    """Every attempt of these deliveries, oldest first, in one query."""
    found: dict[uuid.UUID, list[WebhookAttempt]] = {d: [] for d in delivery_ids}
    if not delivery_ids:
        return found
    rows = await session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(delivery_ids))
        .order_by(WebhookAttempt.delivery_id, WebhookAttempt.started_at, WebhookAttempt.id)
    )
    for attempt in rows:
        found[attempt.delivery_id].append(attempt)
    return found


async def oldest_pending(
    session: AsyncSession, subscription_id: uuid.UUID
) -> WebhookDelivery | None:
    """The delivery to send next: batches go out in log order, one at a time."""
    return await session.scalar(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .order_by(WebhookDelivery.last_seq, WebhookDelivery.id)
        .limit(1)
    )


async def claim_lease(
    session: AsyncSession, subscription_id: uuid.UUID, owner: str, *, now: datetime, until: datetime
) -> bool:
    """Take the subscription for ``owner`` unless another holds an unexpired lease: one
    conditional UPDATE, atomic on both databases."""
    result = await session.execute(
        update(WebhookSubscription)
        .where(
            WebhookSubscription.id == subscription_id,
            or_(WebhookSubscription.lease_until.is_(None), WebhookSubscription.lease_until < now),
        )
        .values(lease_owner=owner, lease_until=until)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def release_lease(session: AsyncSession, subscription_id: uuid.UUID, owner: str) -> None:
    await session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id, WebhookSubscription.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


async def due_subscriptions(
    session: AsyncSession, *, now: datetime, head: int, limit: int = 1000
) -> list[uuid.UUID]:
    """Active, unleased subscriptions with something to do: a pending delivery whose time
    has come, or none pending and change-log rows past their cursor."""
    pending = and_(
        WebhookDelivery.subscription_id == WebhookSubscription.id,
        WebhookDelivery.status == DeliveryStatus.PENDING,
    )
    stmt = (
        select(WebhookSubscription.id)
        .where(
            WebhookSubscription.status == SubscriptionStatus.ACTIVE,
            or_(WebhookSubscription.lease_until.is_(None), WebhookSubscription.lease_until < now),
            or_(
                exists().where(pending, WebhookDelivery.next_attempt_at <= now),
                and_(~exists().where(pending), WebhookSubscription.cursor_seq < head),
            ),
        )
        .order_by(WebhookSubscription.id)
        .limit(limit)
    )
    return list(await session.scalars(stmt))


async def indicator_types(
    session: AsyncSession, refs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The indicator type behind each (kind, object id) of an indicator assertion, reaction
    or proposal; other kinds and objects that are gone are absent."""
    by_kind: dict[str, list[uuid.UUID]] = {}
    for kind, object_id in refs:
        try:
            by_kind.setdefault(kind, []).append(uuid.UUID(object_id))
        except ValueError:
            continue
    found: dict[tuple[str, str], str] = {}
    queries = {
        "indicator.assertion": (
            IndicatorAssertion.id,
            select(IndicatorAssertion.id, Indicator.type).join(
                Indicator, Indicator.id == IndicatorAssertion.indicator_id
            ),
        ),
        "indicator.reaction": (
            IndicatorReaction.id,
            select(IndicatorReaction.id, Indicator.type).join(
                Indicator, Indicator.id == IndicatorReaction.indicator_id
            ),
        ),
        "indicator.proposal": (
            IndicatorProposal.id,
            select(IndicatorProposal.id, Indicator.type)
            .join(IndicatorAssertion, IndicatorAssertion.id == IndicatorProposal.assertion_id)
            .join(Indicator, Indicator.id == IndicatorAssertion.indicator_id),
        ),
    }
    for kind, (id_column, stmt) in queries.items():
        ids = by_kind.get(kind)
        if not ids:
            continue
        for object_id, indicator_type in await session.execute(stmt.where(id_column.in_(ids))):
            found[(kind, str(object_id))] = str(indicator_type)
    return found
