"""A case's evidence manifest: a hash chain, each entry committing to the one before it.

Pure. An entry's hash is the SHA-256 of the canonical JSON of its fields and the previous
entry's hash; the first entry's "previous" is derived from the case id, so a chain cannot be
passed off as another case's. Altering, dropping, reordering or inserting an entry changes
every hash after it, and the instance signs the last one (the head).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The fields every entry commits to (what was received, when, and by whom).
ENTRY_FIELDS = (
    "sha256",
    "size",
    "filename",
    "media_type",
    "kind",
    "description",
    "received_at",
    "received_by",
    "received_by_org",
)


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def genesis(case_id: str) -> str:
    return hashlib.sha256(f"alliance-case-manifest:{case_id}".encode()).hexdigest()


def entry_hash(seq: int, previous: str, fields: Mapping[str, Any]) -> str:
    body = {"seq": seq, "previous": previous, "fields": dict(fields)}
    return hashlib.sha256(canonical_json(body)).hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    fields: dict[str, Any]
    previous_hash: str
    entry_hash: str


def append(case_id: str, chain: Sequence[Entry], fields: Mapping[str, Any]) -> Entry:
    """The entry that follows ``chain`` (empty: the first of the case)."""
    missing = [name for name in ENTRY_FIELDS if name not in fields]
    if missing:
        raise ValueError(f"manifest entry lacks {', '.join(missing)}")
    previous = chain[-1].entry_hash if chain else genesis(case_id)
    seq = len(chain) + 1
    kept = {name: fields[name] for name in ENTRY_FIELDS}
    return Entry(seq, kept, previous, entry_hash(seq, previous, kept))


def head(case_id: str, chain: Sequence[Entry]) -> str:
    """The hash the instance signs: the last entry's, or the genesis of an empty chain."""
    return chain[-1].entry_hash if chain else genesis(case_id)


def chain_problems(case_id: str, chain: Sequence[Entry]) -> list[str]:
    """What is wrong with a chain, entry by entry (empty: it holds)."""
    problems: list[str] = []
    previous = genesis(case_id)
    for position, entry in enumerate(chain, start=1):
        label = f"entry {position} ({entry.fields.get('filename', '?')})"
        if entry.seq != position:
            problems.append(f"{label}: sequence number {entry.seq}, expected {position}")
        if entry.previous_hash != previous:
            problems.append(f"{label}: does not commit to the entry before it")
        if entry_hash(entry.seq, entry.previous_hash, entry.fields) != entry.entry_hash:
            problems.append(f"{label}: its hash does not match its fields")
        previous = entry.entry_hash
    return problems
