"""``guides.mark_stale`` is a registered task on the beat schedule (the service it wraps is
tested in tests/schema/test_guides.py)."""

from __future__ import annotations

from datetime import timedelta

from alliance.config import Settings


def test_mark_stale_is_scheduled(settings: Settings) -> None:
    import workers.tasks  # noqa: F401  (registers the tasks)
    from workers.celery_app import make_celery

    app = make_celery(settings)
    entry = app.conf.beat_schedule["mark-stale-guides"]
    assert entry["task"] == "guides.mark_stale"
    assert entry["schedule"] == timedelta(seconds=settings.guides.stale_check_every_seconds)
    assert "guides.mark_stale" in app.tasks
