"""Blob tasks: thin wrappers around ``alliance.blobs.service`` and ``alliance.blobs.orphans``."""

from __future__ import annotations

import logging
import uuid

from celery import Task, shared_task

from alliance.blobs import orphans
from alliance.blobs import service as blobs_service
from alliance.blobs.errors import UnsupportedStore
from workers import runtime

logger = logging.getLogger("alliance.blobs")


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


@shared_task(name=orphans.SWEEP_TASK, bind=True)
def sweep_orphans(self: Task) -> int:
    """Remove blob and evidence files no row refers to, past the grace period; how many."""
    rt = runtime.runtime(self.app)
    try:
        report = rt.runner.run(orphans.sweep(rt.sessions, self.app.conf.alliance_settings))
    except UnsupportedStore as exc:
        logger.warning("orphan files not swept: %s", exc.message)
        return 0
    return len(report.removed)
