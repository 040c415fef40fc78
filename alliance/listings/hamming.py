"""Near-duplicate search for perceptual hashes: every stored hash within a Hamming radius.

Multi-index hashing (Norouzi, Punjani and Fleet, 2012): split each ``bits``-bit hash into
``m`` chunks. If two hashes differ in at most ``r`` bits, at least one chunk differs in at
most ``r // m`` bits (pigeonhole), so the candidates are the stored hashes that share a
chunk value within that small radius with the query; only those are compared in full.

Each chunk is an index over the whole set, kept as one sorted array of row numbers and an
offset table by chunk value (no per-bucket Python objects; all chunks' arrays laid end to
end, so a query's probes of every chunk are gathered in a few vectorised steps), so a
million 256-bit hashes build in about a second and take ``N × (bits/8 + 4 × m)`` bytes.
Hashes added after the build sit in a small overflow matrix that is compared in full;
removals are tombstones.
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
    """Every chunk's index in two flat arrays: for chunk ``c``, the row numbers sorted by the
    chunk's value at ``rows[c * n : (c + 1) * n]``, and where each value's run starts at
    ``offsets[c * (2**width + 1) + value]`` (already shifted by ``c * n``), so the buckets
    of all chunks' probes are gathered in a handful of vectorised steps."""

    __slots__ = ("ends", "offsets", "rows", "stride")

    def __init__(self, chunk_values: list[NDArray[np.uint32]], width: int) -> None:
        n = len(chunk_values[0]) if chunk_values else 0
        self.stride = (1 << width) + 1
        self.rows = np.concatenate(
            [np.argsort(v, kind="stable").astype(np.uint32) for v in chunk_values]
            or [np.zeros(0, dtype=np.uint32)]
        )
        self.offsets = np.zeros(len(chunk_values) * self.stride, dtype=np.int64)
        for c, values in enumerate(chunk_values):
            table = self.offsets[c * self.stride : (c + 1) * self.stride]
            np.cumsum(np.bincount(values, minlength=1 << width), out=table[1:])
            table += c * n
        # Where each bucket ends: the next one's start (one array read per probe, not two).
        self.ends = self.offsets[1:]

    def gather(self, probes: NDArray[np.int64]) -> NDArray[np.uint32]:
        """The rows in the buckets of ``probes`` (places in ``offsets``: chunk ``c``'s value
        plus ``c * stride``), repeats included."""
        ends = self.ends.take(probes)
        lengths = ends - self.offsets.take(probes)
        through = np.cumsum(lengths)
        total = int(through[-1]) if through.size else 0
        if not total:
            return np.zeros(0, dtype=np.uint32)
        # The n-th row gathered is at its bucket's start plus its place within the bucket:
        # start - (rows gathered before the bucket) = end - (rows gathered through it).
        return self.rows.take(np.repeat(ends - through, lengths) + np.arange(total))


class _PaddedBuckets:
    """For one-word hashes (pHash): every chunk's buckets as rows of one table, each bucket
    padded to ``width`` slots holding the hashes themselves, so a query's candidates are one
    gather of ``probes × width`` hashes and their distances three vectorised steps (the
    bucket-list gather of :class:`_ChunkIndex` takes about ten, each costing more in call
    overhead than in work at these sizes). Rows beyond ``width`` in a crowded bucket are
    *spilled*: kept apart and compared in full with every query, so nothing is missed. The
    width is the smallest that spills at most ``spill_limit`` rows; beyond ``MAX_WIDTH`` the
    hashes are too skewed for padding to pay, and :meth:`build` gives None."""

    MAX_WIDTH = 64
    PAD_ROW = -1

    __slots__ = ("hashes", "rows", "spill_hashes", "spill_rows", "width")

    def __init__(
        self,
        hashes: NDArray[np.uint64],
        rows: NDArray[np.int32],
        spill_rows: NDArray[np.int64],
        spill_hashes: NDArray[np.uint64],
    ) -> None:
        self.hashes, self.rows = hashes, rows
        self.spill_rows, self.spill_hashes = spill_rows, spill_hashes
        self.width = hashes.shape[1]

    @classmethod
    def build(
        cls, flat: NDArray[np.uint64], chunk_values: list[NDArray[np.uint32]], chunk_bits: int
    ) -> _PaddedBuckets | None:
        n, buckets = len(flat), 1 << chunk_bits
        counts = [np.bincount(v, minlength=buckets) for v in chunk_values]
        spill_limit = max(256, n // 256)
        largest = max((int(c.max()) for c in counts), default=0)
        width = max(1, -(-n // buckets))  # at least the mean bucket, rounded up
        while width <= cls.MAX_WIDTH and width < largest:
            if sum(int(np.maximum(c - width, 0).sum()) for c in counts) <= spill_limit:
                break
            width += 1
        if width > cls.MAX_WIDTH:
            return None
        table = np.full((len(chunk_values) * buckets, width), cls.PAD_ROW, dtype=np.int32)
        spilled = np.zeros(n, dtype=bool)
        for c, values in enumerate(chunk_values):
            order = np.argsort(values, kind="stable")
            ordered = values[order].astype(np.int64)
            starts = np.concatenate(([0], np.cumsum(counts[c])[:-1]))
            slot = np.arange(n) - starts[ordered]
            fits = slot < width
            table[ordered[fits] + c * buckets, slot[fits]] = order[fits]
            spilled[order[~fits]] = True
        hashes = np.where(table >= 0, flat[np.maximum(table, 0)], np.uint64(0))
        spill_rows = np.flatnonzero(spilled)
        return cls(hashes, table, spill_rows, flat[spill_rows])

    def near(self, probes: NDArray[np.int64], query: np.uint64, limit: int) -> dict[int, int]:
        """Row -> distance for the stored hashes within ``limit`` of ``query`` among the
        buckets ``probes`` (chunk ``c``'s value plus ``c * 2**chunk_bits``) and the spill."""
        distances = np.bitwise_count(self.hashes.take(probes, axis=0) ^ query).ravel()
        close = (distances <= limit).nonzero()[0]
        found: dict[int, int] = {}
        if close.size:
            rows = self.rows[probes[close // self.width], close % self.width]
            for row, d in zip(rows.tolist(), distances[close].tolist(), strict=True):
                if row != self.PAD_ROW:  # a padding slot close by chance
                    found[row] = d
        if self.spill_rows.size:
            spill = np.bitwise_count(self.spill_hashes ^ query)
            close = (spill <= limit).nonzero()[0]
            if close.size:
                rows = self.spill_rows[close].tolist()
                found.update(zip(rows, spill[close].tolist(), strict=True))
        return found


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
        self._flat: NDArray[np.uint64] | None = None
        self._keys: list[Hashable] = []
        self._alive: NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self._row_of: dict[Hashable, int] = {}  # the live rows
        self._index: _ChunkIndex | None = None
        self._padded: _PaddedBuckets | None = None
        # Per chunk: the bit shift of its value in the hash as one integer, and where its
        # values start in the flat offset table.
        self._shifts = [bits - chunk_bits * (c + 1) for c in range(self.chunks)]
        self._bases = (np.arange(self.chunks, dtype=np.int64) * ((1 << chunk_bits) + 1))[:, None]
        self._padded_bases = (np.arange(self.chunks, dtype=np.int64) << chunk_bits)[:, None]
        self._overflow: dict[Hashable, NDArray[np.uint64]] = {}
        # The overflow as one matrix, made on the first search after it changed.
        self._overflow_matrix: tuple[list[Hashable], NDArray[np.uint64]] | None = None

    @staticmethod
    def _flip_masks(width: int, radius: int) -> NDArray[np.int64]:
        masks = [0]
        for r in range(1, radius + 1):
            for positions in combinations(range(width), r):
                masks.append(sum(1 << p for p in positions))
        return np.array(masks, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._row_of) + len(self._overflow)

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
        # One-word hashes (pHash) also as a flat array: compared without a per-row sum.
        self._flat = np.ascontiguousarray(matrix[:, 0]) if self._words == 1 else None
        self._keys = keys
        self._alive = np.ones(len(keys), dtype=bool)
        self._row_of = {key: row for row, key in enumerate(keys)}
        self._overflow = {}
        self._overflow_matrix = None
        chunk_values = [self._chunk_values(matrix, c) for c in range(self.chunks)]
        self._padded = None
        if self._flat is not None and len(keys):
            self._padded = _PaddedBuckets.build(self._flat, chunk_values, self.chunk_bits)
        # The bucket lists serve multi-word hashes, and one-word hashes too skewed to pad.
        self._index = _ChunkIndex(chunk_values, self.chunk_bits) if self._padded is None else None

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
        self._overflow_matrix = None
        if len(self._overflow) > self.overflow_limit:
            self.compact()

    def remove(self, key: Hashable) -> None:
        if self._overflow.pop(key, None) is not None:
            self._overflow_matrix = None
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
        # Validated above; as one integer it also gives the chunk values without a round trip.
        whole = int(value, 16) if isinstance(value, str) else None
        limit = self.radius if radius is None else min(radius, self.radius)
        hits: list[Hit] = []
        if self._padded is not None:
            probes = self._probes(
                self._whole(query) if whole is None else whole, self._padded_bases
            )
            found = self._padded.near(probes, query[0], limit)
            for row in sorted(found):
                if self._alive[row]:
                    hits.append(Hit(self._keys[row], found[row]))
        elif self._index is not None and len(self._keys):
            # Candidates come with repeats and removed rows: comparing them all costs less
            # than sorting them out first, and only the few close ones are sorted out after.
            candidates = self._candidates(query, whole)
            if candidates.size:
                if self._flat is not None and query.shape == (1,):
                    distances = np.bitwise_count(self._flat[candidates] ^ query[0])
                else:
                    distances = np.bitwise_count(self._hashes[candidates] ^ query).sum(axis=1)
                close = np.flatnonzero(distances <= limit)
                if close.size:
                    rows, near = candidates[close].tolist(), distances[close].tolist()
                    found = dict(zip(rows, near, strict=True))
                    for row in sorted(found):
                        if self._alive[row]:
                            hits.append(Hit(self._keys[row], found[row]))
        if self._overflow:
            if self._overflow_matrix is None:
                matrix = np.array(list(self._overflow.values()), dtype=np.uint64)
                self._overflow_matrix = (list(self._overflow), matrix)
            keys, matrix = self._overflow_matrix
            distances = np.bitwise_count(matrix ^ query).sum(axis=1)
            for i in np.flatnonzero(distances <= limit).tolist():
                hits.append(Hit(keys[i], int(distances[i])))
        hits.sort(key=lambda h: h.distance)
        return hits

    def _candidates(
        self, query: NDArray[np.uint64], whole: int | None = None
    ) -> NDArray[np.uint32]:
        """The rows sharing a chunk within the chunk radius with ``query`` (``whole``: the
        same as one integer, when known): repeats and removed rows included."""
        assert self._index is not None
        if whole is None:
            whole = self._whole(query)
        return self._index.gather(self._probes(whole, self._bases))

    @staticmethod
    def _whole(query: NDArray[np.uint64]) -> int:
        return int.from_bytes(query.astype(">u8").tobytes(), "big")

    def _probes(self, whole: int, bases: NDArray[np.int64]) -> NDArray[np.int64]:
        """Every chunk's value within the chunk radius, each placed by its chunk's base."""
        mask = (1 << self.chunk_bits) - 1
        values = np.array([(whole >> shift) & mask for shift in self._shifts], dtype=np.int64)
        return ((values[:, None] ^ self._masks) + bases).ravel()


def linear_scan(
    hashes: NDArray[np.uint64], query: NDArray[np.uint64], radius: int
) -> Sequence[int]:
    """The rows of ``hashes`` within ``radius`` of ``query`` by comparing every one: the
    baseline the index is measured and property-tested against."""
    distances = np.bitwise_count(hashes ^ query).sum(axis=1)
    return np.flatnonzero(distances <= radius).tolist()
