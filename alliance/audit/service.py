"""The audit log: every write, every token issued and every denial, hash-chained.

:func:`record` buffers an entry on the session; it is chained and written inside that
session's commit, or dropped with its rollback, exactly like the change log (and for
the same reason, writers take a lock of their own before they read the chain's head:
two writers that read the same head would fork the chain). Every change recorded in
the change log also becomes an audit entry (see ``alliance.changelog.service``); the
change log's commit hook runs first, so locks are always taken change log first.

A denial must be audited although the request that was denied writes nothing:
:func:`record_now` writes in a small transaction of its own.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Required, TypedDict, Unpack

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from alliance.audit import repository as repo
from alliance.audit.chain import Break, ChainVerifier, entry_hash, normalise_detail
from alliance.audit.models import AuditEntry
from alliance.audit.repository import EntryFilter
from alliance.auth.principal import Principal
from alliance.db import AllianceSession, unit_of_work, utcnow
from alliance.errors import FieldProblem, Forbidden, InvalidInput
from alliance.observability.context import current_actor, current_caller, current_request_id
from alliance.pagination import Page

_PENDING = "alliance.pending_audit"

OPERATOR_SCOPE = "admin"
ORG_ADMIN_SCOPE = "org:admin"
MAX_ACTIONS_FILTER = 20

# The column widths of ``audit_log``: a longer value is a bug at the call site, so it is
# refused when recorded rather than failing the whole commit later.
_WIDTHS = {
    "action": 100,
    "actor": 200,
    "client_id": 200,
    "target_kind": 64,
    "target_id": 200,
    "request_id": 64,
}


class Outcome(enum.StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


class EntryFields(TypedDict, total=False):
    """The keyword arguments of :func:`record` (all but ``action`` optional)."""

    action: Required[str]
    outcome: Outcome | str
    actor: str | None
    person_id: uuid.UUID | None
    client_id: str | None
    organisation_id: uuid.UUID | None
    target_kind: str | None
    target_id: str | None
    detail: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """An entry waiting for its commit; ``seq`` and ``prev_hash`` are set when it is chained."""

    occurred_at: datetime
    action: str
    outcome: str
    actor: str | None
    person_id: uuid.UUID | None
    client_id: str | None
    organisation_id: uuid.UUID | None
    target_kind: str | None
    target_id: str | None
    request_id: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    seq: int = 0
    prev_hash: str = ""


_ENTRY_FIELDS = tuple(f.name for f in fields(PendingEntry))


def _alliance_session(session: AsyncSession | Session) -> Session:
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    if not isinstance(sync, AllianceSession):
        raise TypeError(
            "audit entries are written by an AllianceSession's commit; make sessions with "
            "alliance.db.make_sessionmaker, or sessionmaker(class_=AllianceSession) when sync"
        )
    return sync


def _checked(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"audit {name} must be a string, not {type(value).__name__}")
    if len(value) > _WIDTHS[name]:
        raise ValueError(f"audit {name} is longer than {_WIDTHS[name]} characters: {value[:40]!r}…")
    if "\x00" in value:
        raise ValueError(f"audit {name} contains a NUL character")
    return value


def make_entry(
    *,
    action: str,
    outcome: Outcome | str = Outcome.ALLOWED,
    actor: str | None = None,
    person_id: uuid.UUID | None = None,
    client_id: str | None = None,
    organisation_id: uuid.UUID | None = None,
    target_kind: str | None = None,
    target_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> PendingEntry:
    """An entry stamped now, with the request id and, when no one is named, the caller
    of the current request (``alliance.observability.context``)."""
    if not action:
        raise ValueError("an audit entry needs an action")
    if actor is None and person_id is None and client_id is None and organisation_id is None:
        caller = current_caller()
        if caller is not None:
            actor, person_id = caller.actor, caller.person_id
            client_id, organisation_id = caller.client_id, caller.organisation_id
        else:
            actor = current_actor()
    return PendingEntry(
        occurred_at=utcnow(),
        action=_checked("action", action) or "",
        outcome=Outcome(outcome).value,
        actor=_checked("actor", actor),
        person_id=person_id,
        client_id=_checked("client_id", client_id),
        organisation_id=organisation_id,
        target_kind=_checked("target_kind", target_kind),
        target_id=_checked("target_id", None if target_id is None else str(target_id)),
        request_id=_checked("request_id", current_request_id()),
        detail=normalise_detail(detail),
    )


def record(session: AsyncSession | Session, **fields: Unpack[EntryFields]) -> None:
    """Append an audit entry to this transaction: written if, and only if, it commits.

    Takes an ``AsyncSession`` or a sync ``AllianceSession`` (the authorization server's).
    """
    sync = _alliance_session(session)
    sync.info.setdefault(_PENDING, []).append(make_entry(**fields))


async def record_now(
    sessions: async_sessionmaker[AsyncSession], **fields: Unpack[EntryFields]
) -> None:
    """Write one entry in a transaction of its own (a denial outlives the denied request's).

    Call it while the caller's own transaction holds no write (roll that back first, as
    ``run_mutation`` does): on SQLite a second writer waits for the first to finish.
    """
    await write_now(sessions, [make_entry(**fields)])


async def write_now(
    sessions: async_sessionmaker[AsyncSession], entries: Sequence[PendingEntry]
) -> None:
    """Write entries made earlier (:func:`make_entry`) in one transaction of their own."""
    if not entries:
        return
    async with unit_of_work(sessions) as session:
        _alliance_session(session).info.setdefault(_PENDING, []).extend(entries)


def record_now_sync(session_factory: Callable[[], Session], **fields: Unpack[EntryFields]) -> None:
    """:func:`record_now` for synchronous sessions."""
    entry = make_entry(**fields)
    with session_factory() as session, session.begin():
        _alliance_session(session).info.setdefault(_PENDING, []).append(entry)


def pending_entries(session: AsyncSession | Session) -> tuple[PendingEntry, ...]:
    return tuple(_alliance_session(session).info.get(_PENDING, ()))


@event.listens_for(AllianceSession, "before_commit")
def _write_pending_entries(session: Session) -> None:
    entries: list[PendingEntry] = session.info.pop(_PENDING, [])
    if not entries:
        return
    session.flush()
    repo.lock_chain_head(session)
    seq, prev_hash = repo.chain_head(session)
    rows: list[dict[str, Any]] = []
    for pending in entries:
        seq += 1
        # A shallow copy: asdict's deep copy of every detail was a quarter of a bulk import,
        # and dataclasses.replace most of what was left.
        row = {name: getattr(pending, name) for name in _ENTRY_FIELDS}
        row["seq"], row["prev_hash"] = seq, prev_hash
        prev_hash = row["entry_hash"] = entry_hash(SimpleNamespace(**row))  # type: ignore[arg-type]
        rows.append(row)
    repo.insert_entries(session, rows)


@event.listens_for(AllianceSession, "after_soft_rollback")
def _drop_pending_entries(session: Session, _previous_transaction: Any) -> None:
    session.info.pop(_PENDING, None)


# --- reading --------------------------------------------------------------------------------


def visible_entries(
    principal: Principal | None,
    *,
    organisation_id: uuid.UUID | None = None,
    actions: Sequence[str] | None = None,
) -> EntryFilter:
    """What ``principal`` may read: operators (and the local CLI) everything, optionally one
    organisation's entries; organisation admins their own organisation's only."""
    check = list(dict.fromkeys(actions or ()))
    problems: list[FieldProblem] = []
    if len(check) > MAX_ACTIONS_FILTER:
        problems.append(
            FieldProblem(("actions",), "TOO_MANY", f"give at most {MAX_ACTIONS_FILTER} actions")
        )
    if any(not a or len(a) > _WIDTHS["action"] for a in check):
        problems.append(
            FieldProblem(
                ("actions",), "INVALID_ACTION", f"actions are 1 to {_WIDTHS['action']} characters"
            )
        )
    if problems:
        raise InvalidInput(problems)
    if principal is None or principal.has_scope(OPERATOR_SCOPE):
        return EntryFilter(organisation_id=organisation_id, actions=tuple(check))
    if principal.has_scope(ORG_ADMIN_SCOPE):
        if organisation_id is not None and organisation_id != principal.organisation_id:
            raise Forbidden(
                f"organisation admins read their own organisation's audit entries only; "
                f"another organisation's requires the {OPERATOR_SCOPE!r} scope"
            )
        return EntryFilter(organisation_id=principal.organisation_id, actions=tuple(check))
    raise Forbidden(f"reading the audit log requires {ORG_ADMIN_SCOPE!r} or {OPERATOR_SCOPE!r}")


async def page_entries(
    session: AsyncSession, entry_filter: EntryFilter, *, before: int | None, limit: int
) -> Page[AuditEntry]:
    """Newest first: the ``limit`` entries with ``seq < before``."""
    return await repo.page_newest_first(session, entry_filter, before=before, limit=limit)


async def count_entries(session: AsyncSession, entry_filter: EntryFilter) -> int:
    return await repo.count(session, entry_filter)


# --- verifying ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChainReport:
    entries: int  # entries up to the head when verification started
    verified: int  # entries found sound before the first break (all of them when whole)
    head_seq: int
    head_hash: str | None
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


async def verify_chain(
    session: AsyncSession,
    *,
    batch_size: int = 1000,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ChainReport:
    """Recompute every hash and check every link and sequence number, up to the head seen
    at the start (entries appended meanwhile are left for the next run)."""
    up_to = await repo.head_seq(session)
    total = await repo.count_up_to(session, up_to)
    if on_start:
        on_start(total)
    verifier = ChainVerifier()
    after = 0
    while after < up_to:
        batch = await repo.chain_slice(session, after=after, up_to=up_to, limit=batch_size)
        if not batch:
            break
        for entry in batch:
            broken = verifier.check(entry)  # type: ignore[arg-type]  # a Row has the fields
            if broken is not None:
                return ChainReport(total, verifier.checked, up_to, None, broken)
        after = batch[-1].seq
        if on_progress:
            on_progress(len(batch))
    head_hash = verifier.last_hash if verifier.checked else None
    return ChainReport(total, verifier.checked, up_to, head_hash, None)
