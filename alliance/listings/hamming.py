"""Near-duplicate search for perceptual hashes: every stored hash within a Hamming radius.

Multi-index hashing (Norouzi, Punjani and Fleet, 2012): split each ``bits``-bit hash into
``m`` chunks. If two hashes differ in at most ``r`` bits, at least one chunk differs in at
most ``r // m`` bits (pigeonhole), so the candidates are the stored hashes that share a
chunk value within that small radius with the query; only those are compared in full.

Each chunk is an index over the whole set, kept as one sorted array of row numbers and an
offset table by chunk value (no per-bucket Python objects), so a million 256-bit hashes
build in about a second and take ``N × (bits/8 + 4 × m)`` bytes. Hashes added after the
build sit in a small overflow list that is scanned linearly; removals are tombstones.
``compact()`` folds both into a fresh build — the matcher calls it when the overflow grows
past ``overflow_limit``.

Chunk widths default to 16 bits: for PDQ (256 bits, radius 31) that is 16 chunks searched
at radius 1, for pHash (64 bits, radius 10) 4 chunks at radius 2.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from numpy.typing import NDArray

WORD_BITS = 64


def parse_hex(value: str, bits: int) -> NDArray[np.uint64]:
    """A hex hash as ``bits // 64`` big-endian 64-bit words."""
    if len(value) != bits // 4:
        raise ValueError(f"a {bits}-bit hash has {bits // 4} hex digits, not {len(value)}")
    try:
        raw = bytes.fromhex(value)
    except ValueError as exc:
        raise ValueError("not a hexadecimal hash") from exc
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64)


def hamming(a: NDArray[np.uint64], b: NDArray[np.uint64]) -> int:
    return int(np.bitwise_count(np.bitwise_xor(a, b)).sum())


@dataclass(frozen=True, slots=True)
class Hit:
    key: Hashable
    distance: int


class _ChunkIndex:
    """Row numbers sorted by one chunk's value, with where each value's run starts."""

    __slots__ = ("offsets", "rows")

    def __init__(self, values: NDArray[np.uint32], width: int) -> None:
        self.rows = np.argsort(values, kind="stable").astype(np.uint32)
        counts = np.bincount(values, minlength=1 << width)
        self.offsets = np.zeros((1 << width) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.offsets[1:])

    def bucket(self, value: int) -> NDArray[np.uint32]:
        return self.rows[self.offsets[value] : self.offsets[value + 1]]

    def buckets(self, values: NDArray[np.int64]) -> list[NDArray[np.uint32]]:
        """The non-empty buckets of many chunk values, found in one vectorised step."""
        starts = self.offsets[values]
        ends = self.offsets[values + 1]
        full = np.flatnonzero(ends > starts)
        return [self.rows[starts[i] : ends[i]] for i in full.tolist()]


class HammingIndex:
    """Stored hashes, each under a key, searchable by Hamming radius."""

    def __init__(
        self,
        bits: int,
        radius: int,
        *,
        chunk_bits: int = 16,
        overflow_limit: int = 4096,
    ) -> None:
        if bits % WORD_BITS or bits % chunk_bits or WORD_BITS % chunk_bits:
            raise ValueError("bits must be a multiple of 64 and of chunk_bits")
        if not 0 <= radius < bits:
            raise ValueError("radius must be between 0 and bits - 1")
        self.bits = bits
        self.radius = radius
        self.chunk_bits = chunk_bits
        self.chunks = bits // chunk_bits
        self.chunk_radius = radius // self.chunks
        self.overflow_limit = overflow_limit
        self._words = bits // WORD_BITS
        self._masks = self._flip_masks(chunk_bits, self.chunk_radius)
        self._hashes: NDArray[np.uint64] = np.zeros((0, self._words), dtype=np.uint64)
        self._keys: list[Hashable] = []
        self._alive: NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self._row_of: dict[Hashable, int] = {}
        self._indexes: list[_ChunkIndex] = []
        self._overflow: dict[Hashable, NDArray[np.uint64]] = {}

    @staticmethod
    def _flip_masks(width: int, radius: int) -> NDArray[np.int64]:
        masks = [0]
        for r in range(1, radius + 1):
            for positions in combinations(range(width), r):
                masks.append(sum(1 << p for p in positions))
        return np.array(masks, dtype=np.int64)

    def __len__(self) -> int:
        return int(self._alive.sum()) + len(self._overflow)

    # -- building --------------------------------------------------------------------------

    def build(self, items: Iterable[tuple[Hashable, str | NDArray[np.uint64]]]) -> None:
        """Replace the contents with ``items`` (key, hash) — the last hash for a key wins."""
        latest: dict[Hashable, NDArray[np.uint64]] = {}
        for key, value in items:
            latest[key] = self._as_words(value)
        self._load(list(latest), latest.values())

    def _load(self, keys: list[Hashable], hashes: Iterable[NDArray[np.uint64]]) -> None:
        matrix = np.array(list(hashes), dtype=np.uint64).reshape(len(keys), self._words)
        self._hashes = matrix
        self._keys = keys
        self._alive = np.ones(len(keys), dtype=bool)
        self._row_of = {key: row for row, key in enumerate(keys)}
        self._overflow = {}
        self._indexes = [
            _ChunkIndex(self._chunk_values(matrix, c), self.chunk_bits) for c in range(self.chunks)
        ]

    def _chunk_values(self, matrix: NDArray[np.uint64], chunk: int) -> NDArray[np.uint32]:
        per_word = WORD_BITS // self.chunk_bits
        word, slot = divmod(chunk, per_word)
        shift = np.uint64(WORD_BITS - self.chunk_bits * (slot + 1))
        mask = np.uint64((1 << self.chunk_bits) - 1)
        return ((matrix[:, word] >> shift) & mask).astype(np.uint32)

    def _as_words(self, value: str | NDArray[np.uint64]) -> NDArray[np.uint64]:
        if isinstance(value, str):
            return parse_hex(value, self.bits)
        words = np.asarray(value, dtype=np.uint64)
        if words.shape != (self._words,):
            raise ValueError(f"expected {self._words} 64-bit words")
        return words

    # -- keeping fresh ---------------------------------------------------------------------

    def add(self, key: Hashable, value: str | NDArray[np.uint64]) -> None:
        """Store (or replace) the hash under ``key``; visible to the next search."""
        words = self._as_words(value)
        self.remove(key)
        self._overflow[key] = words
        if len(self._overflow) > self.overflow_limit:
            self.compact()

    def remove(self, key: Hashable) -> None:
        self._overflow.pop(key, None)
        row = self._row_of.pop(key, None)
        if row is not None:
            self._alive[row] = False

    def compact(self) -> None:
        rows = np.flatnonzero(self._alive)
        keys = [self._keys[r] for r in rows] + list(self._overflow)
        hashes = [*self._hashes[rows], *self._overflow.values()]
        self._load(keys, hashes)

    # -- searching -------------------------------------------------------------------------

    def search(self, value: str | NDArray[np.uint64], radius: int | None = None) -> list[Hit]:
        """Every stored hash within ``radius`` (at most the index's) of ``value``, nearest first."""
        query = self._as_words(value)
        limit = self.radius if radius is None else min(radius, self.radius)
        hits: list[Hit] = []
        if self._indexes and len(self._keys):
            candidates = self._candidates(query)
            if candidates.size:
                distances = np.bitwise_count(self._hashes[candidates] ^ query).sum(axis=1)
                close = distances <= limit
                for row, distance in zip(candidates[close], distances[close], strict=True):
                    hits.append(Hit(self._keys[row], int(distance)))
        for key, words in self._overflow.items():
            distance = hamming(words, query)
            if distance <= limit:
                hits.append(Hit(key, distance))
        hits.sort(key=lambda h: h.distance)
        return hits

    def _candidates(self, query: NDArray[np.uint64]) -> NDArray[np.uint32]:
        row = query.reshape(1, -1)
        buckets: list[NDArray[np.uint32]] = []
        for chunk, index in enumerate(self._indexes):
            value = int(self._chunk_values(row, chunk)[0])
            buckets += index.buckets(value ^ self._masks)
        if not buckets:
            return np.zeros(0, dtype=np.uint32)
        rows = np.unique(np.concatenate(buckets))
        return rows[self._alive[rows]]


def linear_scan(
    hashes: NDArray[np.uint64], query: NDArray[np.uint64], radius: int
) -> Sequence[int]:
    """The rows of ``hashes`` within ``radius`` of ``query`` by comparing every one: the
    baseline the index is measured and property-tested against."""
    distances = np.bitwise_count(hashes ^ query).sum(axis=1)
    return np.flatnonzero(distances <= radius).tolist()
