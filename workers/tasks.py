"""Thin named task wrappers: take plain arguments, call one ``alliance`` service."""

from __future__ import annotations

import socket
import uuid

from celery import Task, shared_task
from celery.signals import worker_process_shutdown

from alliance.guides import service as guides_service
from alliance.indicators import importing
from alliance.indicators import service as indicators_service
from alliance.system import service as system_service
from workers import (  # noqa: F401  (blob_tasks, search_tasks and webhook_tasks register their tasks)
    blob_tasks,
    federation_tasks,
    runtime,
    search_tasks,
    webhook_tasks,
)


@shared_task(name="system.heartbeat", bind=True)
def heartbeat(self: Task, worker: str | None = None) -> int:
    name = worker or f"{socket.gethostname()}:{self.request.hostname or 'worker'}"

    async def work(session):  # type: ignore[no-untyped-def]
        return (await system_service.record_heartbeat(session, name)).beats

    return runtime.run_in_transaction(self.app, work)


@shared_task(name="indicators.expire", bind=True)
def expire_indicators(self: Task) -> int:
    """Mark assertions past their valid_until as expired (and write their change rows)."""

    async def work(session):  # type: ignore[no-untyped-def]
        return len(await indicators_service.expire_due(session))

    return runtime.run_in_transaction(self.app, work)


@shared_task(name="indicators.refresh_scores", bind=True)
def refresh_indicator_scores(self: Task) -> int:
    """Let stored assertion scores decay with age (what minScore filters read)."""
    settings = self.app.conf.alliance_settings.indicators

    async def work(session):  # type: ignore[no-untyped-def]
        return await indicators_service.refresh_scores(session, settings=settings)

    return runtime.run_in_transaction(self.app, work)


@shared_task(name="indicators.import_file", bind=True)
def import_indicators_file(self: Task, job_id: str) -> int:
    """Run (or resume) an import job, a committed transaction per chunk of rows."""
    rt = runtime.runtime(self.app)
    settings = self.app.conf.alliance_settings
    job = rt.runner.run(
        importing.run_import(
            rt.sessions,
            uuid.UUID(job_id),
            data_dir=settings.data_dir,
            settings=settings.indicators,
        )
    )
    return job.rows_done if job is not None else 0


@shared_task(name="guides.mark_stale", bind=True)
def mark_stale_guides(self: Task) -> int:
    """Mark guides past their review-by date as stale and notify their owners."""

    async def work(session):  # type: ignore[no-untyped-def]
        return len(await guides_service.mark_stale(session))

    return runtime.run_in_transaction(self.app, work)


@worker_process_shutdown.connect
def _close_runtime(**_kwargs: object) -> None:
    runtime.shutdown()
