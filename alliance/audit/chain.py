"""The audit log's hash chain, as pure functions over plain data.

Every entry's ``entry_hash`` is the SHA-256 of a canonical JSON document holding the
entry's fields, its ``seq`` and the ``prev_hash`` it links to (the previous entry's
``entry_hash``; 64 zeros for the first). Sequence numbers are dense: the writer assigns
``seq = previous + 1`` under the chain's lock, so a missing number is a removed entry,
not a rolled-back insert. Changing any field of an entry breaks its own hash; removing
or reordering entries breaks the links or the numbering after them. Only removing the
newest entries cannot be seen from the chain alone, which is why ``audit verify`` prints
the head's hash for the operator to keep elsewhere.
"""

from __future__ import annotations

import enum
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

GENESIS_HASH = "0" * 64


class ChainedEntry(Protocol):
    """What the chain commits to; the ``AuditEntry`` model satisfies it."""

    @property
    def seq(self) -> int: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def action(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def actor(self) -> str | None: ...
    @property
    def person_id(self) -> uuid.UUID | None: ...
    @property
    def client_id(self) -> str | None: ...
    @property
    def organisation_id(self) -> uuid.UUID | None: ...
    @property
    def target_kind(self) -> str | None: ...
    @property
    def target_id(self) -> str | None: ...
    @property
    def request_id(self) -> str | None: ...
    @property
    def detail(self) -> Mapping[str, Any]: ...
    @property
    def prev_hash(self) -> str: ...


class StoredEntry(ChainedEntry, Protocol):
    @property
    def entry_hash(self) -> str: ...


def _json_default(value: object) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    )


def normalise_detail(detail: Mapping[str, Any] | None) -> dict[str, Any]:
    """``detail`` as the database will give it back (UUIDs, datetimes and enums as strings),
    so the hash computed before the insert equals the one recomputed from the stored row."""
    if detail is None:
        return {}
    if not isinstance(detail, Mapping):
        raise TypeError("detail must be a mapping")
    flat = _flat_detail(detail)
    if flat is not None:
        return flat
    normalised = json.loads(canonical_json(detail))
    assert isinstance(normalised, dict)
    return normalised


def _flat_detail(detail: Mapping[str, Any]) -> dict[str, Any] | None:
    """A detail of string keys and plain values (text, whole numbers, booleans, None, UUIDs,
    text enums: what most entries hold) as the JSON round trip gives it, without one; None
    for anything else (floats, datetimes, nested values), which takes the round trip."""
    flat: dict[str, Any] = {}
    for key in sorted(detail):
        if type(key) is not str:
            return None
        value = detail[key]
        kind = type(value)
        if value is None or kind is str or kind is int or kind is bool:
            flat[key] = value
        elif isinstance(value, uuid.UUID):
            flat[key] = str(value)
        elif isinstance(value, str):  # a text enum: JSON writes its text
            flat[key] = str.__str__(value)
        else:
            return None
    return flat


def timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime in an audit entry; use timezone-aware UTC datetimes")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


def hashed_document(entry: ChainedEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "occurred_at": timestamp(entry.occurred_at),
        "action": entry.action,
        "outcome": entry.outcome,
        "actor": entry.actor,
        "person_id": _optional(entry.person_id),
        "client_id": entry.client_id,
        "organisation_id": _optional(entry.organisation_id),
        "target_kind": entry.target_kind,
        "target_id": entry.target_id,
        "request_id": entry.request_id,
        "detail": dict(entry.detail),
        "prev_hash": entry.prev_hash,
    }


def entry_hash(entry: ChainedEntry) -> str:
    return hashlib.sha256(canonical_json(hashed_document(entry)).encode("utf-8")).hexdigest()


class Problem(enum.StrEnum):
    MISSING = "MISSING"  # sequence numbers skipped: entries were removed
    OUT_OF_ORDER = "OUT_OF_ORDER"  # a sequence number repeats or goes back
    UNLINKED = "UNLINKED"  # prev_hash is not the previous entry's entry_hash
    ALTERED = "ALTERED"  # entry_hash does not match the entry's own fields


@dataclass(frozen=True, slots=True)
class Break:
    seq: int
    problem: Problem
    message: str


class ChainVerifier:
    """Feed entries in ``seq`` order; :meth:`check` answers the first break, or None."""

    def __init__(self) -> None:
        self.checked = 0
        self.last_seq = 0
        self.last_hash = GENESIS_HASH

    def check(self, entry: StoredEntry) -> Break | None:
        expected = self.last_seq + 1
        if entry.seq > expected:
            missing = (
                f"entry {expected} is missing"
                if entry.seq == expected + 1
                else f"entries {expected} to {entry.seq - 1} are missing"
            )
            return Break(
                expected,
                Problem.MISSING,
                f"{missing}: the chain goes from {self._previous()} to seq {entry.seq}",
            )
        if entry.seq < expected:
            return Break(
                entry.seq,
                Problem.OUT_OF_ORDER,
                f"seq {entry.seq} follows seq {self.last_seq}; sequence numbers must increase by one",
            )
        if entry.prev_hash != self.last_hash:
            linked_to = (
                f"the entry_hash of seq {self.last_seq}" if self.last_seq else "the genesis hash"
            )
            return Break(
                entry.seq,
                Problem.UNLINKED,
                f"prev_hash {entry.prev_hash[:16]}… is not {linked_to} ({self.last_hash[:16]}…)",
            )
        if entry_hash(entry) != entry.entry_hash:
            return Break(
                entry.seq,
                Problem.ALTERED,
                "entry_hash does not match the entry's fields: it was changed after it was written",
            )
        self.checked += 1
        self.last_seq = entry.seq
        self.last_hash = entry.entry_hash
        return None

    def _previous(self) -> str:
        return f"seq {self.last_seq}" if self.last_seq else "the start of the chain"
