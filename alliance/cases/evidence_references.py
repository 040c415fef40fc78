"""Which stored evidence files a row still refers to (what the orphan collector may not remove).

Only ``evidence_files`` names a file by its hash: manifest entries refer to their evidence row
(``ON DELETE RESTRICT``), so a file with a manifest entry always has its row too.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.cases.models import EvidenceFile


async def referenced_sha256s(session: AsyncSession, hashes: Collection[str]) -> set[str]:
    """Which of ``hashes`` some evidence row stores (callers pass a page of them, not all)."""
    if not hashes:
        return set()
    found = await session.scalars(
        select(EvidenceFile.sha256).where(EvidenceFile.sha256.in_(hashes)).distinct()
    )
    return set(found)
