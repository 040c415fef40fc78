"""The search indexer's task: drain the change log into the search backend.

The backend is built once per worker process, on first use (so after any fork), like the
engine in ``workers.runtime``.
"""

from __future__ import annotations

import os

from celery import Celery, Task, shared_task

from search.backend import SearchBackend, SearchUnavailable
from workers import runtime

_backend: tuple[int, SearchBackend] | None = None
# Beat keeps ticking while the engine is down, so retries need not go on for ever.
MAX_RETRIES = 6
MAX_BACKOFF_SECONDS = 60
# One task drains at most this many batches, then yields the worker to other work.
MAX_BATCHES = 40


def backend(app: Celery) -> SearchBackend:
    global _backend
    if _backend is None or _backend[0] != os.getpid():
        from search.factory import make_backend

        _backend = (os.getpid(), make_backend(app.conf.alliance_settings))
    return _backend[1]


def backoff(retries: int) -> int:
    return int(min(MAX_BACKOFF_SECONDS, 2**retries))


@shared_task(name="search.index_changes", bind=True, max_retries=MAX_RETRIES)
def index_changes(self: Task) -> int:
    """Index committed changes after the indexer's cursor; returns how many were read."""
    from search import indexer

    settings = self.app.conf.alliance_settings
    rt = runtime.runtime(self.app)
    target = backend(self.app)
    try:
        reports = rt.runner.run(
            indexer.drain(
                rt.sessions,
                target,
                batch_size=settings.search.index_batch_size,
                max_batches=MAX_BATCHES,
            )
        )
    except SearchUnavailable as exc:
        error = str(exc)
        runtime.run_in_transaction(self.app, lambda session: indexer.record_failure(session, error))
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc
    return sum(r.changes for r in reports)
