"""The reads STIX exports and the TAXII server make. Assertions are read through the sharing
policy's predicate and its travel rule for exports (TLP:RED never leaves the instance)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.guides.models import Guide, GuideTellIndicator, GuideVersion
from alliance.guides.repository import visible_to as guide_visible_to
from alliance.indicators.models import Indicator, IndicatorAssertion
from alliance.indicators.repository import visible
from alliance.orgs.models import Organisation, WorkingGroup
from alliance.rules.definition import RuleStatus
from alliance.rules.models import Rule, RuleVersion
from alliance.rules.repository import visible_to as rule_visible_to
from alliance.sharing.policy import (
    INSTANCE_WIDE,
    TRAVEL_RULES,
    Destination,
    Viewer,
    VisibilityColumns,
    compile_sql,
)


@dataclass(frozen=True, slots=True)
class Scope:
    """A collection's objects: one working group's, or what is shared alliance-wide (None);
    ``everything`` the viewer may see (a STIX export), in the groups named if any."""

    working_group_id: uuid.UUID | None
    everything: bool = False
    working_group_ids: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True, slots=True)
class AssertionCursor:
    """Exclusive keyset position in (updated_at, id) order. Without an id, the rows updated at
    that instant are all after it (``inclusive``) or all before it."""

    updated_at: datetime
    id: uuid.UUID | None
    inclusive: bool = True


def _after(model: Any, cursor: AssertionCursor) -> ColumnElement[bool]:
    if cursor.id is None:
        if cursor.inclusive:
            return model.updated_at >= cursor.updated_at
        return model.updated_at > cursor.updated_at
    return or_(
        model.updated_at > cursor.updated_at,
        and_(model.updated_at == cursor.updated_at, model.id > cursor.id),
    )


def _exportable(a: Any) -> ColumnElement[bool]:
    return compile_sql(
        TRAVEL_RULES[Destination.EXTERNAL_EXPORT],
        VisibilityColumns(a.owner_org_id, a.working_group_id, a.distribution, a.tlp),
    )


def _in_scope(viewer: Viewer, scope: Scope) -> list[ColumnElement[bool]]:
    a = IndicatorAssertion
    conditions = [visible(viewer, a), _exportable(a)]
    if scope.everything:
        if scope.working_group_ids:
            conditions.append(a.working_group_id.in_(scope.working_group_ids))
    elif scope.working_group_id is None:
        conditions.append(a.distribution.in_(INSTANCE_WIDE))
    else:
        conditions.append(a.working_group_id == scope.working_group_id)
    return conditions


def _assertion_columns() -> list[Any]:
    a = IndicatorAssertion
    return [
        a.id,
        a.owner_org_id,
        a.distribution,
        a.tlp,
        a.confidence,
        a.severity,
        a.status,
        a.brands,
        a.product_category,
        a.tags,
        a.evidence_links,
        a.note,
        a.details,
        a.valid_from,
        a.valid_until,
        a.first_seen_at,
        a.created_at,
        a.updated_at,
        a.score,
        Indicator.type.label("indicator_type"),
        Indicator.value,
        Indicator.details.label("indicator_details"),
        WorkingGroup.slug.label("working_group_slug"),
    ]


async def page_assertions(
    session: AsyncSession,
    viewer: Viewer,
    scope: Scope,
    *,
    after: AssertionCursor | None,
    added_after: datetime | None,
    ids: Sequence[uuid.UUID] | None,
    versions: Sequence[datetime] | None,
    limit: int,
) -> list[Any]:
    """The collection's assertions in date-added (last write) order: rows of the columns STIX
    conversion reads (``AssertionData.of``), with the indicator's and the group's slug."""
    a = IndicatorAssertion
    stmt = (
        select(*_assertion_columns())
        .join(Indicator, Indicator.id == a.indicator_id)
        .outerjoin(WorkingGroup, WorkingGroup.id == a.working_group_id)
        .where(*_in_scope(viewer, scope))
    )
    if after is not None:
        stmt = stmt.where(_after(a, after))
    if added_after is not None:
        stmt = stmt.where(a.updated_at > added_after)
    if ids is not None:
        if not ids:
            return []
        stmt = stmt.where(a.id.in_(ids))
    if versions is not None:
        if not versions:
            return []
        stmt = stmt.where(a.updated_at.in_(versions))
    return list(await session.execute(stmt.order_by(a.updated_at, a.id).limit(limit)))


async def assertion_ids(session: AsyncSession, viewer: Viewer, scope: Scope) -> list[uuid.UUID]:
    """Every assertion id in the collection (to find one by its derived STIX id)."""
    return list(
        await session.scalars(select(IndicatorAssertion.id).where(*_in_scope(viewer, scope)))
    )


async def count_assertions(session: AsyncSession, viewer: Viewer, scope: Scope) -> int:
    stmt = select(func.count()).select_from(IndicatorAssertion).where(*_in_scope(viewer, scope))
    return int(await session.scalar(stmt) or 0)


async def organisations(session: AsyncSession) -> list[Organisation]:
    return list(await session.scalars(select(Organisation).order_by(Organisation.id)))


async def working_groups(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[WorkingGroup]:
    if not ids:
        return []
    return list(
        await session.scalars(
            select(WorkingGroup).where(WorkingGroup.id.in_(ids)).order_by(WorkingGroup.slug)
        )
    )


# --- banned-category rules: those activated once (in force, or retired since) ---------------------

EXPORTED_RULE_STATUSES = (RuleStatus.ACTIVE, RuleStatus.RETIRED)


def _rules_in_scope(viewer: Viewer, scope: Scope) -> list[ColumnElement[bool]]:
    r = Rule
    conditions = [
        rule_visible_to(viewer),
        _exportable(r),
        r.status.in_(EXPORTED_RULE_STATUSES),
    ]
    if scope.everything:
        if scope.working_group_ids:
            conditions.append(r.working_group_id.in_(scope.working_group_ids))
    elif scope.working_group_id is None:
        conditions.append(r.distribution.in_(INSTANCE_WIDE))
    else:
        conditions.append(r.working_group_id == scope.working_group_id)
    return conditions


async def page_rules(
    session: AsyncSession,
    viewer: Viewer,
    scope: Scope,
    *,
    after: AssertionCursor | None,
    added_after: datetime | None,
    ids: Sequence[uuid.UUID] | None,
    versions: Sequence[datetime] | None,
    limit: int,
) -> list[tuple[Rule, RuleVersion]]:
    """The collection's rules in last-write order, each with the version in force (the latest
    for a retired rule)."""
    r = Rule
    stmt = (
        select(r, RuleVersion)
        .join(
            RuleVersion,
            and_(
                RuleVersion.rule_id == r.id,
                RuleVersion.number == func.coalesce(r.active_version, r.latest_version),
            ),
        )
        .where(*_rules_in_scope(viewer, scope))
    )
    if after is not None:
        stmt = stmt.where(_after(r, after))
    if added_after is not None:
        stmt = stmt.where(r.updated_at > added_after)
    if ids is not None:
        if not ids:
            return []
        stmt = stmt.where(r.id.in_(ids))
    if versions is not None:
        if not versions:
            return []
        stmt = stmt.where(r.updated_at.in_(versions))
    rows = await session.execute(stmt.order_by(r.updated_at, r.id).limit(limit))
    return [(row[0], row[1]) for row in rows]


async def rule_ids(session: AsyncSession, viewer: Viewer, scope: Scope) -> list[uuid.UUID]:
    return list(await session.scalars(select(Rule.id).where(*_rules_in_scope(viewer, scope))))


# --- identification guides: the latest published version of each -----------------------------------


def _guides_in_scope(viewer: Viewer, scope: Scope) -> list[ColumnElement[bool]]:
    g = Guide
    conditions = [
        guide_visible_to(viewer),
        _exportable(g),
        g.published_version.is_not(None),
    ]
    if scope.everything:
        if scope.working_group_ids:
            conditions.append(g.working_group_id.in_(scope.working_group_ids))
    elif scope.working_group_id is None:
        conditions.append(g.distribution.in_(INSTANCE_WIDE))
    else:
        conditions.append(g.working_group_id == scope.working_group_id)
    return conditions


async def page_guides(
    session: AsyncSession,
    viewer: Viewer,
    scope: Scope,
    *,
    after: AssertionCursor | None,
    added_after: datetime | None,
    ids: Sequence[uuid.UUID] | None,
    versions: Sequence[datetime] | None,
    limit: int,
) -> list[tuple[Guide, GuideVersion, str | None]]:
    """The collection's published guides in last-write order, each with its published version
    and its working group's slug."""
    g = Guide
    stmt = (
        select(g, GuideVersion, WorkingGroup.slug)
        .join(
            GuideVersion,
            and_(GuideVersion.guide_id == g.id, GuideVersion.number == g.published_version),
        )
        .outerjoin(WorkingGroup, WorkingGroup.id == g.working_group_id)
        .where(*_guides_in_scope(viewer, scope))
    )
    if after is not None:
        stmt = stmt.where(_after(g, after))
    if added_after is not None:
        stmt = stmt.where(g.updated_at > added_after)
    if ids is not None:
        if not ids:
            return []
        stmt = stmt.where(g.id.in_(ids))
    if versions is not None:
        if not versions:
            return []
        stmt = stmt.where(g.updated_at.in_(versions))
    rows = await session.execute(stmt.order_by(g.updated_at, g.id).limit(limit))
    return [(row[0], row[1], row[2]) for row in rows]


async def guide_ids(session: AsyncSession, viewer: Viewer, scope: Scope) -> list[uuid.UUID]:
    return list(await session.scalars(select(Guide.id).where(*_guides_in_scope(viewer, scope))))


async def tell_assertions(
    session: AsyncSession, viewer: Viewer, guide_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[str, uuid.UUID]]]:
    """The live (tell id, assertion id) links of these guides whose assertion the viewer may
    see and may leave the instance."""
    found: dict[uuid.UUID, list[tuple[str, uuid.UUID]]] = {g: [] for g in guide_ids}
    if not guide_ids:
        return found
    a, link = IndicatorAssertion, GuideTellIndicator
    rows = await session.execute(
        select(link.guide_id, link.tell_id, link.assertion_id)
        .join(a, a.id == link.assertion_id)
        .where(
            link.guide_id.in_(guide_ids),
            link.retired_at.is_(None),
            visible(viewer, a),
            _exportable(a),
        )
        .order_by(link.guide_id, link.assertion_id)
    )
    for guide, tell, assertion in rows:
        found[guide].append((tell, assertion))
    return found
