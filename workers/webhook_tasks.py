"""Webhook tasks: beat hands each subscription with something to deliver to a worker; a
worker delivers it batch after batch, and a failed attempt comes back after its backoff."""

from __future__ import annotations

import uuid

from celery import Task, shared_task

from alliance.jobs import enqueue
from alliance.webhooks import dispatcher
from workers import runtime

DELIVER = "webhooks.deliver"
DISPATCH = "webhooks.dispatch"


@shared_task(name=DISPATCH, bind=True)
def dispatch(self: Task) -> int:
    """Queue one delivery task per active subscription with pending work (sent on commit)."""

    async def work(session):  # type: ignore[no-untyped-def]
        due = await dispatcher.due_subscriptions(session)
        for subscription_id in due:
            enqueue(session, DELIVER, queue="webhooks", subscription_id=str(subscription_id))
        return len(due)

    return runtime.run_in_transaction(self.app, work)


# The subscription's own attempt count decides when to give up (dead letter), not Celery's.
@shared_task(name=DELIVER, bind=True, max_retries=None)
def deliver(self: Task, subscription_id: str) -> str:
    """Deliver a subscription's pending batches; after a failed attempt, come back when its
    backoff has passed. A duplicate task finds the subscription leased and stops."""
    rt = runtime.runtime(self.app)
    config = dispatcher.DispatchConfig.from_settings(self.app.conf.alliance_settings)
    outcome = rt.runner.run(dispatcher.drain(rt.sessions, uuid.UUID(subscription_id), config))
    if outcome.result == dispatcher.Result.RETRY and outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.result.value
