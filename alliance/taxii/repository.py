"""The TAXII server's own table: the status of add-objects requests."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.taxii.models import TaxiiStatus


async def status(
    session: AsyncSession, status_id: uuid.UUID, organisation_id: uuid.UUID
) -> TaxiiStatus | None:
    return await session.scalar(
        select(TaxiiStatus).where(
            TaxiiStatus.id == status_id, TaxiiStatus.organisation_id == organisation_id
        )
    )
