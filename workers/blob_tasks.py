"""Blob tasks: thin wrappers around ``alliance.blobs.service``."""

from __future__ import annotations

import uuid

from celery import Task, shared_task

from alliance.blobs import service as blobs_service
from workers import runtime


@shared_task(name=blobs_service.THUMBNAIL_TASK, bind=True)
def make_thumbnail(self: Task, blob_id: str) -> str | None:
    """Make a stored image's 320px JPEG thumbnail and record its status."""
    settings = self.app.conf.alliance_settings

    async def work(session):  # type: ignore[no-untyped-def]
        status = await blobs_service.make_thumbnail(
            session, settings=settings, blob_id=uuid.UUID(blob_id)
        )
        return status.value if status is not None else None

    return runtime.run_in_transaction(self.app, work)
