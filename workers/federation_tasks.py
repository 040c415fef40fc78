"""Federation tasks: beat queues one pull per active peer; a worker pulls it (queue
``federation``, so a slow peer never holds up indexing or webhooks)."""

from __future__ import annotations

from celery import Task, shared_task

from alliance.federation import pull as federation_pull
from alliance.federation import repository as federation_repo
from alliance.jobs import enqueue
from workers import runtime

PULL = "federation.pull"
SCHEDULE = "federation.schedule_pulls"


@shared_task(name=SCHEDULE, bind=True)
def schedule_pulls(self: Task) -> int:
    """Queue a pull of every active peer (sent on commit)."""

    async def work(session):  # type: ignore[no-untyped-def]
        peers = await federation_repo.active_peers(session)
        for peer in peers:
            enqueue(session, PULL, queue="federation", peer=peer.name)
        return len(peers)

    return runtime.run_in_transaction(self.app, work)


@shared_task(name=PULL, bind=True)
def pull(self: Task, peer: str) -> int:
    """Pull one peer until caught up; a failure is stored as the peer's last error and the
    next scheduled pull resumes from the last committed cursor."""
    rt = runtime.runtime(self.app)
    settings = self.app.conf.alliance_settings
    try:
        report = rt.runner.run(federation_pull.pull(rt.sessions, settings, peer))
    except federation_pull.PullFailed:
        return 0
    return report.lines
