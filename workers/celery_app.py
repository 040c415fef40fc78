"""The Celery application, built from settings (never at import time).

Production uses the Redis (or RabbitMQ) broker in ``ALLIANCE_BROKER_URL``. The embedded
profile uses kombu's filesystem transport under the data dir: a real broker that
needs no server, shared by the API process that sends and the worker that consumes.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from celery import Celery
from kombu import Exchange, Queue

from alliance.config import Settings
from alliance.jobs import Job

# One queue per kind of work, so a slow webhook receiver or a huge import cannot starve indexing.
QUEUES = ("default", "indexing", "imports", "webhooks", "federation", "periodic")
ROUTES = {
    "system.*": {"queue": "periodic"},
    "indicators.expire": {"queue": "periodic"},
    "indicators.refresh_scores": {"queue": "periodic"},
    "indicators.import_file": {"queue": "imports"},
    "blobs.sweep_orphans": {"queue": "periodic"},
    "search.*": {"queue": "indexing"},
    "imports.*": {"queue": "imports"},
    "webhooks.*": {"queue": "webhooks"},
    "federation.*": {"queue": "federation"},
}


def embedded_broker_dirs(settings: Settings) -> dict[str, Path]:
    root = settings.broker_dir
    dirs = {"queue": root / "queue", "processed": root / "processed", "control": root / "control"}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    return dirs


def make_celery(settings: Settings) -> Celery:
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # beat keeps its schedule there
    app = Celery("alliance", set_as_current=False)
    conf: dict[str, object] = {
        "task_default_queue": "default",
        "task_queues": [
            Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES
        ],
        "task_routes": ROUTES,
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "worker_hijack_root_logger": False,
        "broker_connection_retry_on_startup": True,
        "beat_schedule": {
            "heartbeat": {
                "task": "system.heartbeat",
                "schedule": timedelta(seconds=settings.worker.heartbeat_seconds),
            },
            "expire-indicators": {
                "task": "indicators.expire",
                "schedule": timedelta(seconds=settings.indicators.expire_every_seconds),
            },
            "mark-stale-guides": {
                "task": "guides.mark_stale",
                "schedule": timedelta(seconds=settings.guides.stale_check_every_seconds),
            },
            "sweep-orphan-files": {
                "task": "blobs.sweep_orphans",
                "schedule": timedelta(seconds=settings.blobs.orphan_sweep_every_seconds),
            },
            "refresh-indicator-scores": {
                "task": "indicators.refresh_scores",
                "schedule": timedelta(seconds=settings.indicators.score_refresh_every_seconds),
            },
            # The indexer follows the change log; each tick drains what has been committed.
            "search-index": {
                "task": "search.index_changes",
                "schedule": timedelta(seconds=settings.search.index_interval_seconds),
                "options": {"queue": "indexing", "expires": 60},
            },
            # Subscriptions with something to deliver each get a delivery task.
            # Each active peer gets a pull task on the federation queue.
            "federation-pull": {
                "task": "federation.schedule_pulls",
                "schedule": timedelta(seconds=settings.federation.pull_interval_seconds),
                "options": {"queue": "federation", "expires": 60},
            },
            "webhooks-dispatch": {
                "task": "webhooks.dispatch",
                "schedule": timedelta(seconds=settings.webhooks.dispatch_interval_seconds),
                "options": {"queue": "webhooks", "expires": 60},
            },
        },
        "beat_schedule_filename": str(settings.data_dir / "celerybeat-schedule"),
    }
    if settings.broker_url:
        conf["broker_url"] = settings.broker_url
    else:
        dirs = embedded_broker_dirs(settings)
        conf["broker_url"] = "filesystem://"
        conf["broker_transport_options"] = {
            "data_folder_in": str(dirs["queue"]),
            "data_folder_out": str(dirs["queue"]),
            "processed_folder": str(dirs["processed"]),
            "store_processed": False,
            "control_folder": str(dirs["control"]),
        }
        conf["worker_enable_remote_control"] = False
    app.conf.update(conf)
    app.conf.alliance_settings = settings
    import workers.tasks  # noqa: F401  registers the task wrappers

    return app


class CeleryJobSender:
    """Publishes jobs buffered by a committed unit of work (``alliance.jobs.JobSender``)."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    def send(self, jobs: list[Job]) -> None:
        with self.app.producer_or_acquire() as producer:
            for job in jobs:
                self.app.send_task(job.name, kwargs=job.kwargs, queue=job.queue, producer=producer)
