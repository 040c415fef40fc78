"""Per-request facts that logs, the change log, metrics and errors carry.

One mutable state object per request, set by the HTTP middleware (or a worker task):
layers below fill in the actor and operation name, and everything reads it back,
whatever context copies the framework makes on the way.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, as the audit log records it (filled in from a verified token)."""

    actor: str
    organisation_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    client_id: str | None = None


@dataclass
class RequestState:
    request_id: str
    actor: str | None = None
    operation: str | None = None
    caller: Caller | None = None


_state: ContextVar[RequestState | None] = ContextVar("alliance_request_state", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def begin_request(request_id: str | None = None) -> tuple[RequestState, Token[RequestState | None]]:
    state = RequestState(request_id=request_id or new_request_id())
    return state, _state.set(state)


def end_request(token: Token[RequestState | None]) -> None:
    _state.reset(token)


def request_state() -> RequestState | None:
    return _state.get()


def current_request_id() -> str | None:
    state = _state.get()
    return state.request_id if state else None


def current_actor() -> str | None:
    state = _state.get()
    return state.actor if state else None


def set_actor(actor: str | None) -> None:
    state = _state.get()
    if state is not None:
        state.actor = actor


def current_caller() -> Caller | None:
    state = _state.get()
    return state.caller if state else None


def set_caller(caller: Caller | None) -> None:
    """Set the caller and, with it, the actor."""
    state = _state.get()
    if state is not None:
        state.caller = caller
        state.actor = caller.actor if caller else None


def set_operation(operation: str) -> None:
    state = _state.get()
    if state is not None:
        state.operation = operation
