"""Background jobs queued inside a transaction and sent only after it commits.

A service calls :func:`enqueue`; the unit of work sends the buffered jobs once the
commit succeeded and drops them on rollback, so a worker never sees a job for a
write that did not happen. The sender (a Celery app in practice) is handed to the
sessionmaker as ``job_sender`` by whoever builds it: the app's lifespan, the worker,
or the CLI.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from alliance.db import AllianceSession

_PENDING = "alliance.pending_jobs"
SENDER_KEY = "job_sender"


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    queue: str | None = None


class JobSender(Protocol):
    def send(self, jobs: list[Job]) -> None: ...


class NoJobSender(RuntimeError):
    pass


def enqueue(session: AsyncSession, name: str, *, queue: str | None = None, **kwargs: Any) -> None:
    if session.sync_session.info.get(SENDER_KEY) is None:
        raise NoJobSender(f"cannot queue {name!r}: this session has no job sender")
    session.sync_session.info.setdefault(_PENDING, []).append(Job(name, kwargs, queue))


def pending_jobs(session: AsyncSession) -> list[Job]:
    return list(session.sync_session.info.get(_PENDING, ()))


async def send_pending_jobs(session: AsyncSession) -> None:
    jobs: list[Job] = session.sync_session.info.pop(_PENDING, [])
    if jobs:
        sender: JobSender = session.sync_session.info[SENDER_KEY]
        # Publishing is blocking I/O (kombu); keep it off the event loop.
        await asyncio.to_thread(sender.send, jobs)


@event.listens_for(AllianceSession, "after_soft_rollback")
def _drop_pending_jobs(session: Session, _previous_transaction: Any) -> None:
    session.info.pop(_PENDING, None)
