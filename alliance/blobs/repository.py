"""Reads of blobs (no visibility here: ``alliance.blobs.access`` decides who may read one)."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.blobs.models import Blob


async def blob_by_id(session: AsyncSession, blob_id: uuid.UUID) -> Blob | None:
    return await session.get(Blob, blob_id)


async def blob_of_owner_by_sha256(
    session: AsyncSession, owner_org_id: uuid.UUID, sha256: str
) -> Blob | None:
    return await session.scalar(
        select(Blob)
        .where(Blob.owner_org_id == owner_org_id, Blob.sha256 == sha256)
        .order_by(Blob.id)
        .limit(1)
    )


async def blobs_sharing_content(session: AsyncSession, sha256: str) -> int:
    return int(await session.scalar(select(func.count()).where(Blob.sha256 == sha256)) or 0)


async def referenced_sha256s(session: AsyncSession, hashes: Collection[str]) -> set[str]:
    """Which of ``hashes`` some blob row stores (callers pass a page of them, not all)."""
    if not hashes:
        return set()
    found = await session.scalars(select(Blob.sha256).where(Blob.sha256.in_(hashes)).distinct())
    return set(found)
