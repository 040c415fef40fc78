"""Thin named task wrappers: take plain arguments, call one ``alliance`` service."""

from __future__ import annotations

import socket

from celery import Task, shared_task
from celery.signals import worker_process_shutdown

from alliance.system import service as system_service
from workers import runtime


@shared_task(name="system.heartbeat", bind=True)
def heartbeat(self: Task, worker: str | None = None) -> int:
    name = worker or f"{socket.gethostname()}:{self.request.hostname or 'worker'}"

    async def work(session):  # type: ignore[no-untyped-def]
        return (await system_service.record_heartbeat(session, name)).beats

    return runtime.run_in_transaction(self.app, work)


@worker_process_shutdown.connect
def _close_runtime(**_kwargs: object) -> None:
    runtime.shutdown()
