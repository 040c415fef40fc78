from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.blobs import access
from alliance.sharing.policy import Viewer


def stored_files(root: Path) -> list[Path]:
    """Every file under the blob store, temporary ones included."""
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


class Exhibits:
    """A kind of object referring to blobs, registered as a domain would: which blobs it refers
    to, and which organisations may see the objects that do."""

    kind = "test-exhibit"

    def __init__(self) -> None:
        self.attached: set[uuid.UUID] = set()
        self.readers: dict[uuid.UUID, set[uuid.UUID]] = {}

    def attach(self, blob_id: uuid.UUID, *readers: uuid.UUID) -> None:
        self.attached.add(blob_id)
        self.readers.setdefault(blob_id, set()).update(readers)

    async def check(
        self, session: AsyncSession, viewer: Viewer, blob_id: uuid.UUID, scopes: frozenset[str]
    ) -> bool:
        return viewer.organisation_id in self.readers.get(blob_id, set())

    async def refers(self, session: AsyncSession, blob_id: uuid.UUID) -> bool:
        return blob_id in self.attached


@pytest.fixture
def exhibits() -> Iterator[Exhibits]:
    registered = Exhibits()
    access.register(registered.kind, registered.check, refers=registered.refers)
    yield registered
    access.unregister(registered.kind)
