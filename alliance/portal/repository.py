"""Reads of the portal's own rows, and of the organisation that operates the instance."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from alliance.auth.entitlements import OPERATOR_ORGANISATION_KIND
from alliance.orgs.models import Organisation
from alliance.portal.models import PortalSession


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
