"""Per-request facts that logs, the change log and errors carry: request id and actor."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("alliance_request_id", default=None)
actor_var: ContextVar[str | None] = ContextVar("alliance_actor", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return request_id_var.get()


def current_actor() -> str | None:
    return actor_var.get()
