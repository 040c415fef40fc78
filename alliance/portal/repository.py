"""Reads of the portal's own rows, and of the organisation that operates the instance."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, aliased

from alliance.auth.entitlements import OPERATOR_ORGANISATION_KIND
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.models import (
    Indicator,
    IndicatorAssertion,
    IndicatorProposal,
    IndicatorReaction,
    ProposalState,
    ReactionKind,
)
from alliance.indicators.repository import visible
from alliance.indicators.score_history import ReactionFact
from alliance.orgs.models import Organisation
from alliance.portal.models import PortalSession
from alliance.sharing.policy import Viewer


async def session_by_digest(session: AsyncSession, digest: str) -> PortalSession | None:
    return await session.scalar(select(PortalSession).where(PortalSession.cookie_digest == digest))


async def delete_expired(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(PortalSession).where(PortalSession.expires_at < now))


async def delete_session(session: AsyncSession, session_id: uuid.UUID) -> None:
    await session.execute(delete(PortalSession).where(PortalSession.id == session_id))


async def delete_sessions_of_person(session: AsyncSession, person_id: uuid.UUID) -> int:
    result = await session.execute(
        delete(PortalSession)
        .where(PortalSession.person_id == person_id)
        .returning(PortalSession.id)
    )
    return len(result.all())


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


PLATFORM_REACTIONS = (ReactionKind.SEEN_TOO, ReactionKind.TAKEN_DOWN)


async def platform_points(
    session: AsyncSession, viewer: Viewer, since: datetime
) -> list[tuple[str, str]]:
    """(source, platform) of each sighting the viewer sees since ``since``: a seller-account
    assertion (its platform leads the value, ``platform:id``) or a seen-too or takedown
    reaction naming a platform, on an assertion it sees."""
    a = IndicatorAssertion
    sellers = await session.scalars(
        select(Indicator.value)
        .join(a, a.indicator_id == Indicator.id)
        .where(
            Indicator.type == IndicatorType.SELLER_ACCOUNT,
            visible(viewer, a),
            a.created_at >= since,
        )
        .limit(CHART_ROW_LIMIT)
    )
    r, parent = IndicatorReaction, aliased(IndicatorAssertion)
    when = func.coalesce(r.occurred_at, r.created_at)
    reacted = await session.execute(
        select(r.kind, r.platform)
        .join(parent, parent.id == r.assertion_id)
        .where(
            visible(viewer, r),
            visible(viewer, parent),
            r.kind.in_(PLATFORM_REACTIONS),
            r.platform.is_not(None),
            when >= since,
        )
        .limit(CHART_ROW_LIMIT)
    )
    return [("seller_account", v.partition(":")[0]) for v in sellers.all()] + [
        (k.value, p) for k, p in reacted.all() if p
    ]


async def reactions_for_history(
    session: AsyncSession, viewer: Viewer, indicator_id: uuid.UUID
) -> list[ReactionFact]:
    """The reactions to the indicator the viewer sees, on assertions it sees (what its tally
    counts): each organisation's first of each kind and verdict, which is all a tally at any
    instant needs, and bounded by organisations rather than by reactions."""
    r, parent = IndicatorReaction, aliased(IndicatorAssertion)
    rows = await session.execute(
        select(r.owner_org_id, r.kind, r.verdict, func.min(r.created_at))
        .join(parent, parent.id == r.assertion_id)
        .where(r.indicator_id == indicator_id, visible(viewer, r), visible(viewer, parent))
        .group_by(r.owner_org_id, r.kind, r.verdict)
    )
    return [ReactionFact(o, k, v, at) for o, k, v, at in rows.all()]


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
