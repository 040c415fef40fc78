"""All SQL of federation: peers, provenance, the instance's identity, and the batched reads
the portable snapshots are built from."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, exists, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.changelog.models import ChangeLogEntry
from alliance.federation.models import InstanceIdentity, KnownInstance, Peer, Provenance
from alliance.guides.models import GuideVersion
from alliance.indicators.models import Indicator, IndicatorAssertion, IndicatorMatchKey
from alliance.orgs.models import Organisation, WorkingGroup
from alliance.pagination import Page, count, keyset_page
from alliance.rules.models import Rule, RuleVersion


async def local_instance_id(session: AsyncSession) -> str | None:
    return await session.scalar(
        select(InstanceIdentity.instance_id).where(InstanceIdentity.id == 1)
    )


# --- peers -------------------------------------------------------------------------------------


async def peer_by_name(session: AsyncSession, name: str) -> Peer | None:
    return await session.scalar(select(Peer).where(Peer.name == name))


async def peer_by_id(session: AsyncSession, peer_id: uuid.UUID) -> Peer | None:
    return await session.get(Peer, peer_id)


async def peer_for_update(session: AsyncSession, peer_id: uuid.UUID) -> Peer | None:
    """The peer's row, locked for this transaction on PostgreSQL (SQLite has one writer)."""
    return await session.scalar(
        select(Peer)
        .where(Peer.id == peer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def active_peers(session: AsyncSession) -> list[Peer]:
    return list(await session.scalars(select(Peer).where(Peer.active).order_by(Peer.name)))


async def all_peers(session: AsyncSession) -> list[Peer]:
    return list(await session.scalars(select(Peer).order_by(Peer.name)))


async def page_peers(session: AsyncSession, *, after: uuid.UUID | None, limit: int) -> Page[Peer]:
    return await keyset_page(session, select(Peer), Peer.id, after=after, limit=limit)


async def count_peers(session: AsyncSession) -> int:
    return await count(session, select(Peer))


async def known_instance(session: AsyncSession, organisation_id: uuid.UUID) -> KnownInstance | None:
    return await session.get(KnownInstance, organisation_id)


async def instance_of_organisation(session: AsyncSession, organisation_id: uuid.UUID) -> str | None:
    """The instance a local organisation stands for: a peer we pull from, or one that said so
    in its handshake."""
    known = await session.scalar(
        select(KnownInstance.instance_id).where(KnownInstance.organisation_id == organisation_id)
    )
    if known is not None:
        return known
    return await session.scalar(
        select(Peer.instance_id).where(
            Peer.organisation_id == organisation_id, Peer.instance_id.is_not(None)
        )
    )


# --- provenance --------------------------------------------------------------------------------


async def provenance_of(
    session: AsyncSession, kind: str, local_ids: Sequence[str]
) -> dict[str, Provenance]:
    if not local_ids:
        return {}
    rows = await session.scalars(
        select(Provenance).where(Provenance.kind == kind, Provenance.local_id.in_(local_ids))
    )
    return {p.local_id: p for p in rows}


async def provenance_by_origin(
    session: AsyncSession, kind: str, origins: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Provenance]:
    """Local copies by (origin instance id, origin object id), one query."""
    if not origins:
        return {}
    rows = await session.scalars(
        select(Provenance).where(
            Provenance.kind == kind,
            tuple_(Provenance.origin_instance_id, Provenance.origin_object_id).in_(list(origins)),
        )
    )
    return {(p.origin_instance_id, p.origin_object_id): p for p in rows}


async def provenance_by_peer_object(
    session: AsyncSession, peer_id: uuid.UUID, kind: str, peer_object_ids: Sequence[str]
) -> dict[str, Provenance]:
    """Local copies by the id the peer gave them (removal lines name only that)."""
    if not peer_object_ids:
        return {}
    rows = await session.scalars(
        select(Provenance).where(
            Provenance.peer_id == peer_id,
            Provenance.kind == kind,
            Provenance.peer_object_id.in_(list(set(peer_object_ids))),
        )
    )
    return {p.peer_object_id: p for p in rows}


async def copied_from(
    session: AsyncSession, instance_id: str, refs: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of these (kind, local id) are copies of objects that started at ``instance_id``."""
    if not refs:
        return set()
    rows = await session.execute(
        select(Provenance.kind, Provenance.local_id).where(
            Provenance.origin_instance_id == instance_id,
            tuple_(Provenance.kind, Provenance.local_id).in_(list(set(refs))),
        )
    )
    return {(kind, local_id) for kind, local_id in rows}


def originates_from(instance_id: str) -> ColumnElement[bool]:
    """Change-log rows of objects copied here from ``instance_id``."""
    return exists().where(
        and_(
            Provenance.kind == ChangeLogEntry.kind,
            Provenance.local_id == ChangeLogEntry.object_id,
            Provenance.origin_instance_id == instance_id,
        )
    )


# --- what snapshots are built from ----------------------------------------------------------------


async def assertions_by_ids(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> list[IndicatorAssertion]:
    if not ids:
        return []
    return list(
        await session.scalars(select(IndicatorAssertion).where(IndicatorAssertion.id.in_(ids)))
    )


async def indicators_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Indicator]:
    if not ids:
        return []
    return list(await session.scalars(select(Indicator).where(Indicator.id.in_(ids))))


async def match_keys_of(
    session: AsyncSession, indicator_ids: Sequence[uuid.UUID]
) -> list[IndicatorMatchKey]:
    if not indicator_ids:
        return []
    return list(
        await session.scalars(
            select(IndicatorMatchKey)
            .where(IndicatorMatchKey.indicator_id.in_(indicator_ids))
            .order_by(
                IndicatorMatchKey.indicator_id, IndicatorMatchKey.name, IndicatorMatchKey.value
            )
        )
    )


async def organisations_by_ids(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Organisation]:
    if not ids:
        return {}
    return {
        o.id: o for o in await session.scalars(select(Organisation).where(Organisation.id.in_(ids)))
    }


async def working_groups_by_ids(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, WorkingGroup]:
    if not ids:
        return {}
    return {
        g.id: g for g in await session.scalars(select(WorkingGroup).where(WorkingGroup.id.in_(ids)))
    }


async def rules_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Rule]:
    if not ids:
        return []
    return list(await session.scalars(select(Rule).where(Rule.id.in_(ids))))


async def rule_versions(
    session: AsyncSession, keys: Sequence[tuple[uuid.UUID, int]]
) -> dict[tuple[uuid.UUID, int], RuleVersion]:
    if not keys:
        return {}
    rows = await session.scalars(
        select(RuleVersion).where(tuple_(RuleVersion.rule_id, RuleVersion.number).in_(list(keys)))
    )
    return {(v.rule_id, v.number): v for v in rows}


async def working_groups_by_slugs(
    session: AsyncSession, slugs: Sequence[str]
) -> dict[str, WorkingGroup]:
    if not slugs:
        return {}
    rows = await session.scalars(
        select(WorkingGroup).where(WorkingGroup.slug.in_(list(set(slugs))))
    )
    return {g.slug: g for g in rows}


async def guide_versions(
    session: AsyncSession, keys: Sequence[tuple[uuid.UUID, int]]
) -> dict[tuple[uuid.UUID, int], GuideVersion]:
    if not keys:
        return {}
    rows = await session.scalars(
        select(GuideVersion).where(
            tuple_(GuideVersion.guide_id, GuideVersion.number).in_(list(keys))
        )
    )
    return {(v.guide_id, v.number): v for v in rows}
