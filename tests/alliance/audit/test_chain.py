"""The hash chain as pure functions: hashing is canonical, and every kind of tampering is named."""

from __future__ import annotations

import dataclasses
import enum
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance.audit.chain import (
    GENESIS_HASH,
    ChainVerifier,
    Problem,
    canonical_json,
    entry_hash,
    normalise_detail,
)
from alliance.sharing import TLP, Distribution

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclasses.dataclass(frozen=True)
class Row:
    seq: int
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
    detail: dict[str, Any]
    prev_hash: str
    entry_hash: str = ""


def chain(n: int, **overrides: Any) -> list[Row]:
    rows, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        row = Row(
            seq=seq,
            occurred_at=T0 + timedelta(seconds=seq, microseconds=seq),
            action="organisation.create",
            outcome="allowed",
            actor=f"client:c{seq}@acme",
            person_id=None,
            client_id=f"c{seq}",
            organisation_id=uuid.UUID(int=seq),
            target_kind="organisation",
            target_id=str(uuid.UUID(int=1000 + seq)),
            request_id=f"req{seq:05}",
            detail={"version": 1, "n": seq},
            prev_hash=prev,
            **overrides,
        )
        row = dataclasses.replace(row, entry_hash=entry_hash(row))
        prev = row.entry_hash
        rows.append(row)
    return rows


def first_break(rows: list[Row]):  # type: ignore[no-untyped-def]
    verifier = ChainVerifier()
    for row in rows:
        broken = verifier.check(row)
        if broken:
            return broken
    return None


def test_canonical_json_is_one_spelling() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'
    assert (
        canonical_json({"id": uuid.UUID(int=1)}) == '{"id":"00000000-0000-0000-0000-000000000001"}'
    )
    with pytest.raises(ValueError, match="not JSON compliant"):
        canonical_json({"x": float("nan")})
    with pytest.raises(TypeError, match="object is not JSON serialisable"):
        canonical_json({"x": object()})


def test_detail_is_normalised_to_what_the_database_gives_back() -> None:
    assert normalise_detail({"when": T0, "who": uuid.UUID(int=2), "n": (1, 2)}) == {
        "when": "2026-01-01T00:00:00.000000Z",
        "who": "00000000-0000-0000-0000-000000000002",
        "n": [1, 2],
    }
    assert normalise_detail(None) == {}


class _Colour(str, enum.Enum):  # noqa: UP042  (not StrEnum: its str() is not its text)
    RED = "red"


_PLAIN = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.uuids()
    | st.sampled_from([TLP.AMBER, Distribution.ALLIANCE, _Colour.RED])
)


@given(
    st.dictionaries(
        st.text() | st.integers(),
        _PLAIN | st.floats(allow_nan=False, allow_infinity=False) | st.lists(_PLAIN, max_size=3),
        max_size=6,
    )
    .filter(lambda d: len({type(k) for k in d}) <= 1)
    .filter(lambda d: len({str(k) for k in d}) == len(d))
)
def test_any_detail_normalises_as_its_json_round_trip(detail: dict[Any, Any]) -> None:
    """Flat details take a short way (no JSON written and read back); every detail, flat or
    not, comes out as the round trip gives it, keys in the same order."""
    normalised = normalise_detail(detail)
    expected = json.loads(canonical_json(detail))
    assert normalised == expected
    assert list(normalised) == list(expected)
    assert all(type(v) in (str, int, bool, float, list, type(None)) for v in normalised.values())


def test_hash_covers_every_field_and_the_link() -> None:
    [row] = chain(1)
    changes = {
        "seq": 2,
        "occurred_at": row.occurred_at + timedelta(microseconds=1),
        "action": "organisation.delete",
        "outcome": "denied",
        "actor": None,
        "person_id": uuid.UUID(int=9),
        "client_id": "other",
        "organisation_id": None,
        "target_kind": "membership",
        "target_id": "x",
        "request_id": None,
        "detail": {"version": 2, "n": 1},
        "prev_hash": "f" * 64,
    }
    assert set(changes) | {"entry_hash"} == {f.name for f in dataclasses.fields(Row)}
    for name, value in changes.items():
        assert entry_hash(dataclasses.replace(row, **{name: value})) != row.entry_hash, name


def test_naive_timestamps_are_refused() -> None:
    [row] = chain(1)
    with pytest.raises(ValueError, match="naive datetime"):
        entry_hash(dataclasses.replace(row, occurred_at=datetime(2026, 1, 1)))  # noqa: DTZ001


def test_an_intact_chain_has_no_break() -> None:
    rows = chain(5)
    verifier = ChainVerifier()
    assert all(verifier.check(r) is None for r in rows)
    assert (verifier.checked, verifier.last_seq, verifier.last_hash) == (5, 5, rows[-1].entry_hash)


def test_an_edited_entry_is_named() -> None:
    rows = chain(5)
    rows[2] = dataclasses.replace(rows[2], detail={"version": 1, "n": 999})
    broken = first_break(rows)
    assert (broken.seq, broken.problem) == (3, Problem.ALTERED)
    assert "changed after it was written" in broken.message


def test_an_edited_entry_with_a_recomputed_hash_breaks_the_next_link() -> None:
    rows = chain(5)
    edited = dataclasses.replace(rows[2], actor="someone-else")
    rows[2] = dataclasses.replace(edited, entry_hash=entry_hash(edited))
    broken = first_break(rows)
    assert (broken.seq, broken.problem) == (4, Problem.UNLINKED)
    assert "entry_hash of seq 3" in broken.message


def test_a_removed_entry_is_named_as_missing() -> None:
    rows = chain(6)
    del rows[3]
    broken = first_break(rows)
    assert (broken.seq, broken.problem) == (4, Problem.MISSING)
    assert broken.message == "entry 4 is missing: the chain goes from seq 3 to seq 5"


def test_removed_entries_at_the_start_are_named() -> None:
    broken = first_break(chain(6)[2:])
    assert (broken.seq, broken.problem) == (1, Problem.MISSING)
    assert "entries 1 to 2 are missing" in broken.message


def test_a_first_entry_not_linked_to_the_genesis_hash_is_named() -> None:
    rows = chain(2)
    moved = dataclasses.replace(rows[0], prev_hash="1" * 64)
    rows[0] = dataclasses.replace(moved, entry_hash=entry_hash(moved))
    broken = first_break(rows)
    assert (broken.seq, broken.problem) == (1, Problem.UNLINKED)
    assert "genesis hash" in broken.message


def test_a_repeated_sequence_number_is_out_of_order() -> None:
    rows = chain(3)
    broken = first_break([rows[0], rows[1], rows[1], rows[2]])
    assert (broken.seq, broken.problem) == (2, Problem.OUT_OF_ORDER)


FIELD_EDITS = st.sampled_from(["action", "outcome", "actor", "client_id", "target_id", "detail"])


@given(n=st.integers(2, 30), data=st.data(), field=FIELD_EDITS)
def test_any_single_edit_is_found_at_that_entry(n: int, data: st.DataObject, field: str) -> None:
    rows = chain(n)
    at = data.draw(st.integers(0, n - 1))
    value: Any = {"tampered": True} if field == "detail" else "tampered"
    rows[at] = dataclasses.replace(rows[at], **{field: value})
    broken = first_break(rows)
    assert broken is not None
    assert (broken.seq, broken.problem) == (at + 1, Problem.ALTERED)


@given(n=st.integers(3, 30), data=st.data())
def test_any_removal_but_the_newest_is_found(n: int, data: st.DataObject) -> None:
    rows = chain(n)
    at = data.draw(st.integers(0, n - 2))
    del rows[at]
    broken = first_break(rows)
    assert broken is not None
    assert (broken.seq, broken.problem) == (at + 1, Problem.MISSING)
