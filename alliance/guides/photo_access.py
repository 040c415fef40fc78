"""Guide photos in the blob store's access registry: a blob attached to a guide is served to
whoever may read that guide, and — for a covert or forensic feature's photo — may read that
tier too. Importing this module registers the check."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.blobs import access
from alliance.sharing.policy import Viewer

KIND = "guide_photo"


async def _check(
    session: AsyncSession, viewer: Viewer, blob_id: uuid.UUID, scopes: frozenset[str]
) -> bool:
    from alliance.guides import service

    # The same reader the guide query makes: reviewers (the review scope and a seat in the
    # guide's group) get restricted tiers' photos, as they get those tiers' text.
    reader = service.Reader(
        viewer,
        enforcement=await service._is_enforcement(session, viewer.organisation_id),
        holds_review_scope=service.REVIEW_SCOPE in scopes,
    )
    return await service.may_see_photo_blob(session, reader, blob_id)


async def _refers(session: AsyncSession, blob_id: uuid.UUID) -> bool:
    from alliance.guides import repository as repo

    return bool(await repo.photos_of_blob(session, blob_id))


access.register(KIND, _check, refers=_refers)
