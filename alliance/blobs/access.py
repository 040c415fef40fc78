"""Who may read a blob: whoever may see an object that refers to it.

A blob has no visibility of its own. Each domain that attaches blobs (guides, say) registers
a check, ``async (session, viewer, blob_id, scopes) -> bool``, answering "may this viewer
(holding these token scopes) see an object of mine that refers to this blob?" through the
sharing policy, and optionally
``refers: async (session, blob_id) -> bool``, answering "does any object of mine refer to
it?". Until some registered kind refers to it, a blob is readable by its owner organisation
only (the uploader attaching it). Nobody else learns that it exists: callers answer 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from alliance.blobs.models import Blob
from alliance.sharing.policy import Viewer, ViewerKind

Check = Callable[[AsyncSession, Viewer, uuid.UUID, frozenset[str]], Awaitable[bool]]
Refers = Callable[[AsyncSession, uuid.UUID], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class _Kind:
    check: Check
    refers: Refers | None


_KINDS: dict[str, _Kind] = {}


def register(kind: str, check: Check, *, refers: Refers | None = None) -> None:
    """Declare that objects of ``kind`` refer to blobs. Registering a kind again replaces it."""
    _KINDS[kind] = _Kind(check, refers)


def unregister(kind: str) -> None:
    _KINDS.pop(kind, None)


def registered_kinds() -> list[str]:
    return sorted(_KINDS)


async def is_attached(session: AsyncSession, blob_id: uuid.UUID) -> bool:
    for entry in _KINDS.values():
        if entry.refers is not None and await entry.refers(session, blob_id):
            return True
    return False


async def may_read(
    session: AsyncSession, viewer: Viewer, blob: Blob, scopes: frozenset[str] = frozenset()
) -> bool:
    if viewer.kind != ViewerKind.MEMBER:
        # Peers and anonymous callers only ever see what a registered kind lets them.
        return await _any_check(session, viewer, blob.id, scopes)
    if viewer.organisation_id == blob.owner_org_id and not await is_attached(session, blob.id):
        return True
    return await _any_check(session, viewer, blob.id, scopes)


async def _any_check(
    session: AsyncSession, viewer: Viewer, blob_id: uuid.UUID, scopes: frozenset[str]
) -> bool:
    for entry in list(_KINDS.values()):
        if await entry.check(session, viewer, blob_id, scopes):
            return True
    return False
