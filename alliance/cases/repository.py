"""Reads of test buys and cases, each through the sharing policy.

Test buys carry the visibility fields (``sql_predicate``); cases are seen by their participants
only (``participants_only_predicate``). Nothing here filters visibility on its own.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.cases.models import (
    Case,
    CaseEvent,
    CaseItem,
    CaseManifestEntry,
    CaseParticipant,
    CaseStatus,
    EvidenceFile,
    TestBuy,
    TestBuyConfirmation,
)
from alliance.sharing.policy import Viewer, participants_only_predicate, sql_predicate


def visible_test_buy_clause(viewer: Viewer) -> ColumnElement[bool]:
    return sql_predicate(
        viewer, TestBuy.owner_org_id, TestBuy.working_group_id, TestBuy.distribution, TestBuy.tlp
    )


def visible_case_clause(viewer: Viewer) -> ColumnElement[bool]:
    return participants_only_predicate(
        viewer, Case.id, CaseParticipant.case_id, CaseParticipant.organisation_id
    )


# --- test buys ----------------------------------------------------------------------------------


async def page_visible_test_buys(
    session: AsyncSession,
    viewer: Viewer,
    *,
    after: uuid.UUID | None,
    limit: int,
    working_group_id: uuid.UUID | None = None,
) -> list[TestBuy]:
    stmt = select(TestBuy).where(visible_test_buy_clause(viewer))
    if working_group_id is not None:
        stmt = stmt.where(TestBuy.working_group_id == working_group_id)
    if after is not None:
        stmt = stmt.where(TestBuy.id < after)
    return list((await session.scalars(stmt.order_by(TestBuy.id.desc()).limit(limit))).all())


async def count_visible_test_buys(
    session: AsyncSession, viewer: Viewer, working_group_id: uuid.UUID | None = None
) -> int:
    stmt = select(func.count()).select_from(TestBuy).where(visible_test_buy_clause(viewer))
    if working_group_id is not None:
        stmt = stmt.where(TestBuy.working_group_id == working_group_id)
    return int((await session.scalar(stmt)) or 0)


async def visible_test_buys_by_ids(
    session: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[TestBuy]:
    if not ids:
        return []
    stmt = select(TestBuy).where(TestBuy.id.in_(ids), visible_test_buy_clause(viewer))
    return list((await session.scalars(stmt)).all())


async def test_buys_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[TestBuy]:
    """Unfiltered: for a case's participants, who see its test buys through the case."""
    if not ids:
        return []
    return list((await session.scalars(select(TestBuy).where(TestBuy.id.in_(ids)))).all())


async def confirmations_of(
    session: AsyncSession, test_buy_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[TestBuyConfirmation]]:
    grouped: dict[uuid.UUID, list[TestBuyConfirmation]] = defaultdict(list)
    if test_buy_ids:
        stmt = select(TestBuyConfirmation).where(TestBuyConfirmation.test_buy_id.in_(test_buy_ids))
        for row in (await session.scalars(stmt.order_by(TestBuyConfirmation.id))).all():
            grouped[row.test_buy_id].append(row)
    return grouped


async def attachments_of(
    session: AsyncSession, test_buy_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[EvidenceFile]]:
    grouped: dict[uuid.UUID, list[EvidenceFile]] = defaultdict(list)
    if test_buy_ids:
        stmt = select(EvidenceFile).where(EvidenceFile.test_buy_id.in_(test_buy_ids))
        for row in (await session.scalars(stmt.order_by(EvidenceFile.id))).all():
            assert row.test_buy_id is not None
            grouped[row.test_buy_id].append(row)
    return grouped


# --- cases ------------------------------------------------------------------------------------


async def page_visible_cases(
    session: AsyncSession,
    viewer: Viewer,
    *,
    after: uuid.UUID | None,
    limit: int,
    status: CaseStatus | None = None,
) -> list[Case]:
    stmt = select(Case).where(visible_case_clause(viewer))
    if status is not None:
        stmt = stmt.where(Case.status == status)
    if after is not None:
        stmt = stmt.where(Case.id < after)
    return list((await session.scalars(stmt.order_by(Case.id.desc()).limit(limit))).all())


async def count_visible_cases(
    session: AsyncSession, viewer: Viewer, status: CaseStatus | None = None
) -> int:
    stmt = select(func.count()).select_from(Case).where(visible_case_clause(viewer))
    if status is not None:
        stmt = stmt.where(Case.status == status)
    return int((await session.scalar(stmt)) or 0)


async def visible_cases_by_ids(
    session: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[Case]:
    if not ids:
        return []
    stmt = select(Case).where(Case.id.in_(ids), visible_case_clause(viewer))
    return list((await session.scalars(stmt)).all())


async def visible_case(session: AsyncSession, viewer: Viewer, case_id: uuid.UUID) -> Case | None:
    found = await visible_cases_by_ids(session, viewer, [case_id])
    return found[0] if found else None


async def case_for_update(session: AsyncSession, viewer: Viewer, case_id: uuid.UUID) -> Case | None:
    stmt = (
        select(Case).where(Case.id == case_id, visible_case_clause(viewer)).with_for_update(of=Case)
    )
    return (await session.scalars(stmt)).first()


async def case_by_id(session: AsyncSession, case_id: uuid.UUID) -> Case | None:
    """Unfiltered: the operator's CLI export."""
    return await session.get(Case, case_id)


async def case_by_reference(
    session: AsyncSession, owner_org_id: uuid.UUID, reference: str
) -> Case | None:
    stmt = select(Case).where(Case.owner_org_id == owner_org_id, Case.reference == reference)
    return (await session.scalars(stmt)).first()


async def _grouped(
    session: AsyncSession, model: Any, case_ids: Sequence[uuid.UUID], order: Any
) -> dict[uuid.UUID, list[Any]]:
    grouped: dict[uuid.UUID, list[Any]] = defaultdict(list)
    if case_ids:
        stmt = select(model).where(model.case_id.in_(case_ids)).order_by(model.case_id, order)
        for row in (await session.scalars(stmt)).all():
            grouped[row.case_id].append(row)
    return grouped


async def participants_of(
    session: AsyncSession, case_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[CaseParticipant]]:
    return await _grouped(session, CaseParticipant, case_ids, CaseParticipant.added_at)


async def items_of(
    session: AsyncSession, case_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[CaseItem]]:
    return await _grouped(session, CaseItem, case_ids, CaseItem.added_at)


async def events_of(
    session: AsyncSession, case_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[CaseEvent]]:
    return await _grouped(session, CaseEvent, case_ids, CaseEvent.seq)


async def evidence_of_cases(
    session: AsyncSession, case_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[EvidenceFile]]:
    return await _grouped(session, EvidenceFile, case_ids, EvidenceFile.received_at)


async def manifest_of(session: AsyncSession, case_id: uuid.UUID) -> list[CaseManifestEntry]:
    stmt = (
        select(CaseManifestEntry)
        .where(CaseManifestEntry.case_id == case_id)
        .order_by(CaseManifestEntry.seq)
    )
    return list((await session.scalars(stmt)).all())


async def evidence_files_by_ids(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, EvidenceFile]:
    if not ids:
        return {}
    stmt = select(EvidenceFile).where(EvidenceFile.id.in_(ids))
    return {f.id: f for f in (await session.scalars(stmt)).all()}


async def manifests_of(
    session: AsyncSession, case_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[CaseManifestEntry]]:
    return await _grouped(session, CaseManifestEntry, case_ids, CaseManifestEntry.seq)
