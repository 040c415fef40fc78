"""Reads of the portal's own rows, and of the organisation that operates the instance."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, aliased

from alliance.auth.entitlements import OPERATOR_ORGANISATION_KIND
from alliance.indicators.models import (
    Indicator,
    IndicatorAssertion,
    IndicatorProposal,
    IndicatorReaction,
    ProposalState,
    ReactionKind,
)
from alliance.indicators.repository import visible
from alliance.orgs.models import Organisation
from alliance.portal.models import PortalSession
from alliance.sharing.policy import Viewer


async def session_by_digest(session: AsyncSession, digest: str) -> PortalSession | None:
    return await session.scalar(select(PortalSession).where(PortalSession.cookie_digest == digest))


async def delete_expired(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(PortalSession).where(PortalSession.expires_at < now))


async def delete_session(session: AsyncSession, session_id: uuid.UUID) -> None:
    await session.execute(delete(PortalSession).where(PortalSession.id == session_id))


def operator_organisation(session: Session) -> Organisation | None:
    """The alliance's own office: the portal is its client."""
    return session.scalar(
        select(Organisation)
        .where(Organisation.kind == OPERATOR_ORGANISATION_KIND)
        .order_by(Organisation.created_at, Organisation.id)
        .limit(1)
    )


# --- the charts: rows through the one sharing predicate, counted by alliance.portal.charts ---

CHART_ROW_LIMIT = 50_000


async def assertion_points(
    session: AsyncSession, viewer: Viewer, since: datetime
) -> list[tuple[uuid.UUID | None, datetime, list[str]]]:
    """(working group, created, brands) of the assertions the viewer sees, made since."""
    a = IndicatorAssertion
    rows = await session.execute(
        select(a.working_group_id, a.created_at, a.brands)
        .where(visible(viewer, a), a.created_at >= since)
        .order_by(a.created_at.desc())
        .limit(CHART_ROW_LIMIT)
    )
    return [(g, c, list(b or [])) for g, c, b in rows.all()]


async def reaction_points(
    session: AsyncSession, viewer: Viewer, since: datetime, kinds: list[ReactionKind]
) -> list[tuple[ReactionKind, datetime]]:
    """(kind, when) of the reactions the viewer sees, on assertions it sees."""
    r, parent = IndicatorReaction, aliased(IndicatorAssertion)
    when = func.coalesce(r.occurred_at, r.created_at)
    rows = await session.execute(
        select(r.kind, when)
        .join(parent, parent.id == r.assertion_id)
        .where(visible(viewer, r), visible(viewer, parent), r.kind.in_(kinds), when >= since)
        .limit(CHART_ROW_LIMIT)
    )
    return [(k, w) for k, w in rows.all()]


INBOX_LIMIT = 200


async def pending_proposals_to(
    session: AsyncSession, viewer: Viewer
) -> list[tuple[IndicatorProposal, IndicatorAssertion, Indicator]]:
    """Pending proposals the viewer sees, on assertions its organisation made: its inbox."""
    p, a = IndicatorProposal, IndicatorAssertion
    rows = await session.execute(
        select(p, a, Indicator)
        .join(a, a.id == p.assertion_id)
        .join(Indicator, Indicator.id == a.indicator_id)
        .where(
            p.state == ProposalState.PENDING,
            a.owner_org_id == viewer.organisation_id,
            visible(viewer, p),
            visible(viewer, a),
        )
        .order_by(p.id)
        .limit(INBOX_LIMIT)
    )
    return [(row[0], row[1], row[2]) for row in rows.all()]
