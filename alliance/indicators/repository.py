"""All SQL of the indicators domain. Every read a caller makes goes through the sharing policy's
predicate over the visibility columns of assertions, reactions, proposals or allowlist entries."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    cast,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from alliance.db import copy_records
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.models import (
    AllowlistEntry,
    AssertionStatus,
    ImportJob,
    Indicator,
    IndicatorAssertion,
    IndicatorLink,
    IndicatorProposal,
    IndicatorReaction,
    ReactionKind,
    SubmissionBatch,
    TestBuyVerdict,
)
from alliance.orgs.models import WorkingGroup
from alliance.pagination import Page, count
from alliance.sharing import TLP
from alliance.sharing.policy import Viewer, sql_predicate

LIVE_STATUSES = (AssertionStatus.ACTIVE, AssertionStatus.DISPUTED)


def visible(viewer: Viewer, model: Any) -> ColumnElement[bool]:
    """The policy's predicate over any table (or alias) with the visibility columns."""
    return sql_predicate(
        viewer, model.owner_org_id, model.working_group_id, model.distribution, model.tlp
    )


# --- writing-side reads (the service decides what the caller may learn from them) ---------------


async def indicators_by_digests(session: AsyncSession, digests: Sequence[str]) -> list[Indicator]:
    if not digests:
        return []
    return list(await session.scalars(select(Indicator).where(Indicator.value_digest.in_(digests))))


async def indicators_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Indicator]:
    if not ids:
        return []
    return list(await session.scalars(select(Indicator).where(Indicator.id.in_(ids))))


async def own_assertions(
    session: AsyncSession, organisation_id: uuid.UUID, indicator_ids: Sequence[uuid.UUID]
) -> list[IndicatorAssertion]:
    """The organisation's assertions on these indicators that are not revoked."""
    if not indicator_ids:
        return []
    return list(
        await session.scalars(
            select(IndicatorAssertion)
            .where(
                IndicatorAssertion.owner_org_id == organisation_id,
                IndicatorAssertion.indicator_id.in_(indicator_ids),
                IndicatorAssertion.status != AssertionStatus.REVOKED,
            )
            .order_by(IndicatorAssertion.id)
        )
    )


async def own_group_assertions(
    session: AsyncSession, organisation_id: uuid.UUID, group_keys: Sequence[str]
) -> list[IndicatorAssertion]:
    """The organisation's earliest assertion of each group key (the group's anchor)."""
    if not group_keys:
        return []
    # PostgreSQL has no min() over UUIDs: rank by id within each key instead.
    ranked = (
        select(
            IndicatorAssertion.id.label("aid"),
            func.row_number()
            .over(partition_by=IndicatorAssertion.group_key, order_by=IndicatorAssertion.id)
            .label("n"),
        )
        .where(
            IndicatorAssertion.owner_org_id == organisation_id,
            IndicatorAssertion.group_key.in_(group_keys),
        )
        .subquery()
    )
    return list(
        await session.scalars(
            select(IndicatorAssertion)
            .join(ranked, ranked.c.aid == IndicatorAssertion.id)
            .where(ranked.c.n == 1)
        )
    )


async def existing_links(
    session: AsyncSession, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]]
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    if not pairs:
        return set()
    ids = {i for pair in pairs for i in pair}
    rows = await session.execute(
        select(IndicatorLink.source_id, IndicatorLink.target_id).where(
            IndicatorLink.source_id.in_(ids), IndicatorLink.target_id.in_(ids)
        )
    )
    return {(row[0], row[1]) for row in rows}


async def allowlist_hits(session: AsyncSession, digests: Sequence[str]) -> list[AllowlistEntry]:
    if not digests:
        return []
    return list(
        await session.scalars(
            select(AllowlistEntry)
            .where(AllowlistEntry.value_digest.in_(digests))
            .order_by(AllowlistEntry.id)
        )
    )


async def allowlist_entry(
    session: AsyncSession, owner_org_id: uuid.UUID, digest: str
) -> AllowlistEntry | None:
    return await session.scalar(
        select(AllowlistEntry).where(
            AllowlistEntry.owner_org_id == owner_org_id, AllowlistEntry.value_digest == digest
        )
    )


async def submission_batch(
    session: AsyncSession, organisation_id: uuid.UUID, key: str
) -> SubmissionBatch | None:
    return await session.scalar(
        select(SubmissionBatch).where(
            SubmissionBatch.organisation_id == organisation_id,
            SubmissionBatch.idempotency_key == key,
        )
    )


async def assertions_by_ids(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> list[IndicatorAssertion]:
    if not ids:
        return []
    return list(
        await session.scalars(select(IndicatorAssertion).where(IndicatorAssertion.id.in_(ids)))
    )


async def attached_to(
    session: AsyncSession, assertion_ids: Sequence[uuid.UUID]
) -> list[IndicatorReaction | IndicatorProposal]:
    """The reactions and proposals attached to these assertions."""
    if not assertion_ids:
        return []
    found: list[IndicatorReaction | IndicatorProposal] = []
    for model in (IndicatorReaction, IndicatorProposal):
        found += list(
            await session.scalars(
                select(model).where(model.assertion_id.in_(assertion_ids)).order_by(model.id)
            )
        )
    return found


async def live_assertions_after(
    session: AsyncSession, after: uuid.UUID | None, limit: int
) -> list[tuple[IndicatorAssertion, IndicatorType]]:
    """Live assertions by id after ``after``, with their indicator's type."""
    stmt = (
        select(IndicatorAssertion, Indicator.type)
        .join(Indicator, Indicator.id == IndicatorAssertion.indicator_id)
        .where(IndicatorAssertion.status.in_(LIVE_STATUSES))
        .order_by(IndicatorAssertion.id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(IndicatorAssertion.id > after)
    return [(row[0], row[1]) for row in await session.execute(stmt)]


async def store_scores(session: AsyncSession, scores: dict[uuid.UUID, float]) -> None:
    """Write derived scores without touching ``updated_at`` or the version (see the service)."""
    if not scores:
        return
    table = IndicatorAssertion.__table__
    await session.execute(
        update(table)
        .where(table.c.id == bindparam("aid"))
        .values(score=bindparam("new_score"), updated_at=table.c.updated_at),
        [{"aid": aid, "new_score": value} for aid, value in scores.items()],
    )


async def due_for_expiry(
    session: AsyncSession, now: datetime, limit: int
) -> list[IndicatorAssertion]:
    return list(
        await session.scalars(
            select(IndicatorAssertion)
            .where(
                IndicatorAssertion.status.in_(LIVE_STATUSES),
                IndicatorAssertion.valid_until.is_not(None),
                IndicatorAssertion.valid_until < now,
            )
            .order_by(IndicatorAssertion.id)
            .limit(limit)
        )
    )


@dataclass(frozen=True, slots=True)
class Tally:
    """Reactions to one assertion (or indicator), by distinct reacting organisations."""

    seen_too: int = 0
    test_buys: int = 0
    disputes: int = 0
    outdated: int = 0
    taken_down: int = 0


def _tally_rows(rows: Any) -> dict[uuid.UUID, Tally]:
    counts: dict[uuid.UUID, dict[str, int]] = {}
    for key, kind, verdict, n in rows:
        bucket = counts.setdefault(key, {})
        name = {
            ReactionKind.SEEN_TOO: "seen_too",
            ReactionKind.FALSE_POSITIVE: "disputes",
            ReactionKind.DISPUTED: "disputes",
            ReactionKind.OUTDATED: "outdated",
            ReactionKind.TAKEN_DOWN: "taken_down",
        }.get(ReactionKind(kind))
        if kind == ReactionKind.CONFIRMED_BY_TEST_BUY:
            name = "test_buys" if verdict == TestBuyVerdict.COUNTERFEIT else "disputes"
            if verdict == TestBuyVerdict.INCONCLUSIVE:
                continue
        if name is not None:
            bucket[name] = bucket.get(name, 0) + int(n)
    return {key: Tally(**values) for key, values in counts.items()}


async def tallies_for_assertions(
    session: AsyncSession, assertions: Sequence[IndicatorAssertion]
) -> dict[uuid.UUID, Tally]:
    """Reactions to each assertion that carry exactly its visibility (never narrower), so the
    stored score reveals nothing to a viewer who sees the assertion."""
    if not assertions:
        return {}
    r = IndicatorReaction
    a = IndicatorAssertion
    rows = await session.execute(
        select(r.assertion_id, r.kind, r.verdict, func.count(func.distinct(r.owner_org_id)))
        .join(a, a.id == r.assertion_id)
        .where(
            r.assertion_id.in_([x.id for x in assertions]),
            r.distribution == a.distribution,
            r.tlp == a.tlp,
            or_(
                r.working_group_id == a.working_group_id,
                and_(r.working_group_id.is_(None), a.working_group_id.is_(None)),
            ),
        )
        .group_by(r.assertion_id, r.kind, r.verdict)
    )
    return _tally_rows(rows)


# --- reads for a viewer ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndicatorFilter:
    types: Sequence[IndicatorType] = ()
    working_group_ids: Sequence[uuid.UUID] = ()
    statuses: Sequence[AssertionStatus] = ()
    brands: Sequence[str] = ()
    tlps: Sequence[TLP] = ()
    created_after: datetime | None = None
    min_score: float | None = None


def _brand_pattern(brand: str) -> str:
    # Brands are stored as a JSON list of casefolded names; match one element, quotes included.
    text = json.dumps(brand)
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def visible_indicators_query(viewer: Viewer, filter: IndicatorFilter) -> Select[tuple[Indicator]]:
    """Indicators with at least one assertion the viewer sees that also passes the filter:
    the policy and the filter apply to the same assertion, inside the query."""
    a = IndicatorAssertion
    conditions = [a.indicator_id == Indicator.id, *_assertion_conditions(viewer, filter, a)]
    stmt = select(Indicator).where(exists().where(*conditions))
    if filter.types:
        stmt = stmt.where(Indicator.type.in_(filter.types))
    if filter.created_after is not None:
        stmt = stmt.where(Indicator.created_at > filter.created_after)
    return stmt


def _assertion_conditions(
    viewer: Viewer, filter: IndicatorFilter, a: Any
) -> list[ColumnElement[bool]]:
    """What one assertion must pass: the sharing policy, then the list's filter."""
    conditions: list[ColumnElement[bool]] = [visible(viewer, a)]
    if filter.working_group_ids:
        conditions.append(a.working_group_id.in_(filter.working_group_ids))
    if filter.statuses:
        conditions.append(a.status.in_(filter.statuses))
    if filter.tlps:
        conditions.append(a.tlp.in_(filter.tlps))
    if filter.min_score is not None:
        conditions.append(a.score >= filter.min_score)
    if filter.brands:
        brands_text = cast(a.brands, String)
        conditions.append(
            or_(*(brands_text.like(_brand_pattern(b), escape="\\") for b in filter.brands))
        )
    return conditions


async def page_visible_indicators(
    session: AsyncSession,
    viewer: Viewer,
    filter: IndicatorFilter,
    *,
    newest_first: bool,
    after: uuid.UUID | None,
    limit: int,
) -> Page[Indicator]:
    """Keyset by id (time-ordered UUIDs: creation order), either way."""
    stmt = visible_indicators_query(viewer, filter)
    if after is not None:
        stmt = stmt.where(Indicator.id < after if newest_first else Indicator.id > after)
    order = Indicator.id.desc() if newest_first else Indicator.id
    rows = list((await session.scalars(stmt.order_by(order).limit(limit + 1))).all())
    return Page(
        items=rows[:limit], has_next_page=len(rows) > limit, has_previous_page=after is not None
    )


async def count_visible_indicators(
    session: AsyncSession, viewer: Viewer, filter: IndicatorFilter
) -> int:
    return await count(session, visible_indicators_query(viewer, filter))


async def visible_indicator(
    session: AsyncSession, viewer: Viewer, indicator_id: uuid.UUID
) -> Indicator | None:
    return await session.scalar(
        visible_indicators_query(viewer, IndicatorFilter()).where(Indicator.id == indicator_id)
    )


async def visible_indicator_by_digest(
    session: AsyncSession, viewer: Viewer, digest: str
) -> Indicator | None:
    return await session.scalar(
        visible_indicators_query(viewer, IndicatorFilter()).where(Indicator.value_digest == digest)
    )


async def visible_assertions_of(
    session: AsyncSession, viewer: Viewer, indicator_ids: Sequence[uuid.UUID]
) -> list[IndicatorAssertion]:
    if not indicator_ids:
        return []
    return list(
        await session.scalars(
            select(IndicatorAssertion)
            .where(
                IndicatorAssertion.indicator_id.in_(indicator_ids),
                visible(viewer, IndicatorAssertion),
            )
            .order_by(IndicatorAssertion.id)
        )
    )


async def visible_assertions_by_ids(
    session: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[IndicatorAssertion]:
    if not ids:
        return []
    return list(
        await session.scalars(
            select(IndicatorAssertion).where(
                IndicatorAssertion.id.in_(ids), visible(viewer, IndicatorAssertion)
            )
        )
    )


async def visible_tallies(
    session: AsyncSession, viewer: Viewer, indicator_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Tally]:
    """Reactions the viewer sees (on assertions it sees), per indicator, counted by distinct
    organisation."""
    if not indicator_ids:
        return {}
    r = IndicatorReaction
    parent = aliased(IndicatorAssertion)
    rows = await session.execute(
        select(r.indicator_id, r.kind, r.verdict, func.count(func.distinct(r.owner_org_id)))
        .join(parent, parent.id == r.assertion_id)
        .where(r.indicator_id.in_(indicator_ids), visible(viewer, r), visible(viewer, parent))
        .group_by(r.indicator_id, r.kind, r.verdict)
    )
    return _tally_rows(rows)


async def windowed_visible(
    session: AsyncSession,
    viewer: Viewer,
    model: type[IndicatorReaction] | type[IndicatorProposal],
    *,
    assertion_ids: Sequence[uuid.UUID],
    after: uuid.UUID | None,
    limit: int,
) -> dict[uuid.UUID, tuple[list[Any], int]]:
    """For each assertion, the first ``limit`` + 1 visible reactions (or proposals) after
    ``after`` by id, and how many it has in all: two queries whatever the number of assertions."""
    if not assertion_ids:
        return {}
    # Seen only with the assertion it attaches to: an assertion narrowed since keeps its
    # older reactions from those who no longer see it.
    parent = aliased(IndicatorAssertion)
    seen = and_(
        visible(viewer, model),
        exists().where(parent.id == model.assertion_id, visible(viewer, parent)),
    )
    filtered = select(model.id).where(model.assertion_id.in_(assertion_ids), seen)
    if after is not None:
        filtered = filtered.where(model.id > after)
    ranked = (
        select(
            model.id.label("rid"),
            func.row_number().over(partition_by=model.assertion_id, order_by=model.id).label("n"),
        )
        .where(model.id.in_(filtered))
        .subquery()
    )
    rows = await session.scalars(
        select(model)
        .join(ranked, ranked.c.rid == model.id)
        .where(ranked.c.n <= limit + 1)
        .order_by(model.assertion_id, model.id)
    )
    counted = await session.execute(
        select(model.assertion_id, func.count())
        .where(model.assertion_id.in_(assertion_ids), seen)
        .group_by(model.assertion_id)
    )
    totals = {row[0]: int(row[1]) for row in counted}
    result: dict[uuid.UUID, tuple[list[Any], int]] = {
        aid: ([], totals.get(aid, 0)) for aid in assertion_ids
    }
    for row in rows:
        result[row.assertion_id][0].append(row)
    return result


async def visible_proposal(
    session: AsyncSession, viewer: Viewer, proposal_id: uuid.UUID
) -> IndicatorProposal | None:
    parent = aliased(IndicatorAssertion)
    return await session.scalar(
        select(IndicatorProposal)
        .join(parent, parent.id == IndicatorProposal.assertion_id)
        .where(
            IndicatorProposal.id == proposal_id,
            visible(viewer, IndicatorProposal),
            visible(viewer, parent),
        )
    )


async def page_visible_allowlist(
    session: AsyncSession, viewer: Viewer, *, after: uuid.UUID | None, limit: int
) -> Page[AllowlistEntry]:
    stmt = select(AllowlistEntry).where(visible(viewer, AllowlistEntry))
    if after is not None:
        stmt = stmt.where(AllowlistEntry.id > after)
    rows = list((await session.scalars(stmt.order_by(AllowlistEntry.id).limit(limit + 1))).all())
    return Page(
        items=rows[:limit], has_next_page=len(rows) > limit, has_previous_page=after is not None
    )


async def count_visible_allowlist(session: AsyncSession, viewer: Viewer) -> int:
    stmt = select(func.count()).select_from(AllowlistEntry).where(visible(viewer, AllowlistEntry))
    return int(await session.scalar(stmt) or 0)


async def visible_links_touching(
    session: AsyncSession, viewer: Viewer, indicator_ids: Sequence[uuid.UUID], limit: int
) -> list[IndicatorLink]:
    """Links with an end on one of these indicators whose two assertions the viewer both sees."""
    if not indicator_ids:
        return []
    source = aliased(IndicatorAssertion)
    target = aliased(IndicatorAssertion)
    return list(
        await session.scalars(
            select(IndicatorLink)
            .join(source, source.id == IndicatorLink.source_id)
            .join(target, target.id == IndicatorLink.target_id)
            .where(
                or_(
                    IndicatorLink.source_indicator_id.in_(indicator_ids),
                    IndicatorLink.target_indicator_id.in_(indicator_ids),
                ),
                visible(viewer, source),
                visible(viewer, target),
                source.status != AssertionStatus.REVOKED,
                target.status != AssertionStatus.REVOKED,
            )
            .order_by(IndicatorLink.id)
            .limit(limit)
        )
    )


async def visible_indicators_by_ids(
    session: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[Indicator]:
    if not ids:
        return []
    return list(
        await session.scalars(
            visible_indicators_query(viewer, IndicatorFilter()).where(Indicator.id.in_(ids))
        )
    )


# --- import jobs ---------------------------------------------------------------------------------


async def import_job(
    session: AsyncSession, job_id: uuid.UUID, *, for_update: bool = False
) -> ImportJob | None:
    """One import job; ``for_update`` locks its row (PostgreSQL) so two runners of the same job
    never write the same chunk."""
    stmt = select(ImportJob).where(ImportJob.id == job_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt.execution_options(populate_existing=True))


async def import_job_by_digest(
    session: AsyncSession, organisation_id: uuid.UUID, file_digest: str
) -> ImportJob | None:
    return await session.scalar(
        select(ImportJob).where(
            ImportJob.organisation_id == organisation_id, ImportJob.file_digest == file_digest
        )
    )


async def working_groups_by_slugs(session: AsyncSession, slugs: Sequence[str]) -> dict[str, Any]:
    if not slugs:
        return {}
    rows = await session.execute(
        select(WorkingGroup.slug, WorkingGroup.id).where(WorkingGroup.slug.in_(slugs))
    )
    return {row[0]: row[1] for row in rows}


async def visible_assertions_for_export(
    session: AsyncSession,
    viewer: Viewer,
    filter: IndicatorFilter,
    indicator_ids: Sequence[uuid.UUID],
) -> list[IndicatorAssertion]:
    """The assertions on these indicators the viewer sees that pass the list's filter (the same
    conditions ``visible_indicators_query`` puts on one assertion)."""
    if not indicator_ids:
        return []
    a = IndicatorAssertion
    return list(
        await session.scalars(
            select(a)
            .where(a.indicator_id.in_(indicator_ids), *_assertion_conditions(viewer, filter, a))
            .order_by(a.indicator_id, a.id)
        )
    )


async def insert_many(
    session: AsyncSession, model: type[Any], rows: Sequence[dict[str, Any]]
) -> None:
    """New rows, set-based, bypassing the unit of work: the bulk import's writer of indicators,
    their match keys and new assertions. On PostgreSQL a binary ``COPY`` on the session's own
    connection (inside its transaction); elsewhere one multi-row INSERT batched by the driver."""
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        await session.execute(insert(model), list(rows))
        return
    columns, records = copy_records(model.__table__, rows)
    raw = await connection.get_raw_connection()
    await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
        model.__table__.name, columns=columns, records=records
    )
