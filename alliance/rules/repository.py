"""All SQL of the rules domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.pagination import Page, count, keyset_page
from alliance.rules.definition import RuleStatus
from alliance.rules.models import Rule, RuleVersion
from alliance.sharing.policy import Viewer, sql_predicate


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    return sql_predicate(
        viewer, Rule.owner_org_id, Rule.working_group_id, Rule.distribution, Rule.tlp
    )


def rules_query(
    viewer: Viewer,
    *,
    statuses: Sequence[RuleStatus] | None = None,
    working_group_id: uuid.UUID | None = None,
) -> Select[tuple[Rule]]:
    stmt = select(Rule).where(visible_to(viewer))
    if statuses:
        stmt = stmt.where(Rule.status.in_(statuses))
    if working_group_id is not None:
        stmt = stmt.where(Rule.working_group_id == working_group_id)
    return stmt


async def page_rules(
    session: AsyncSession,
    viewer: Viewer,
    *,
    statuses: Sequence[RuleStatus] | None,
    working_group_id: uuid.UUID | None,
    after: uuid.UUID | None,
    limit: int,
) -> Page[Rule]:
    stmt = rules_query(viewer, statuses=statuses, working_group_id=working_group_id)
    return await keyset_page(session, stmt, Rule.id, after=after, limit=limit)


async def count_rules(
    session: AsyncSession,
    viewer: Viewer,
    *,
    statuses: Sequence[RuleStatus] | None,
    working_group_id: uuid.UUID | None,
) -> int:
    return await count(
        session, rules_query(viewer, statuses=statuses, working_group_id=working_group_id)
    )


async def rules_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Rule]:
    return list(await session.scalars(select(Rule).where(Rule.id.in_(ids))))


async def rule_for_update(session: AsyncSession, rule_id: uuid.UUID) -> Rule | None:
    return await session.scalar(select(Rule).where(Rule.id == rule_id).with_for_update())


async def version(session: AsyncSession, rule_id: uuid.UUID, number: int) -> RuleVersion | None:
    return await session.scalar(
        select(RuleVersion).where(RuleVersion.rule_id == rule_id, RuleVersion.number == number)
    )


async def versions_of(
    session: AsyncSession, rule_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[RuleVersion]]:
    rows = await session.scalars(
        select(RuleVersion)
        .where(RuleVersion.rule_id.in_(rule_ids))
        .order_by(RuleVersion.rule_id, RuleVersion.number)
    )
    found: dict[uuid.UUID, list[RuleVersion]] = {rid: [] for rid in rule_ids}
    for row in rows:
        found[row.rule_id].append(row)
    return found


async def active_rules(
    session: AsyncSession, rule_ids: Sequence[uuid.UUID] | None = None
) -> list[tuple[Rule, RuleVersion]]:
    """Rules in force with the version partners apply (all, or those of ``rule_ids``)."""
    stmt = (
        select(Rule, RuleVersion)
        .join(
            RuleVersion,
            (RuleVersion.rule_id == Rule.id) & (RuleVersion.number == Rule.active_version),
        )
        .where(Rule.status == RuleStatus.ACTIVE)
    )
    if rule_ids is not None:
        stmt = stmt.where(Rule.id.in_(rule_ids))
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


async def visible_rules_by_ids(
    session: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[Rule]:
    return list(await session.scalars(select(Rule).where(Rule.id.in_(ids), visible_to(viewer))))


async def rules_of_owner(session: AsyncSession, owner_org_id: uuid.UUID) -> list[Rule]:
    return list(await session.scalars(select(Rule).where(Rule.owner_org_id == owner_org_id)))
