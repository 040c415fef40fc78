"""Near-duplicate search for perceptual hashes: every stored hash within a Hamming radius.

Multi-index hashing (Norouzi, Punjani and Fleet, 2012): split each ``bits``-bit hash into
``m`` chunks. Give chunk ``i`` a radius ``t_i`` with ``sum(t_i) >= r - m + 1``: if two
hashes differed by more than ``t_i`` bits in every chunk they would differ in at least
``sum(t_i + 1) > r`` bits, so two hashes within ``r`` share at least one chunk within its
radius (the generalised pigeonhole of Qin, Wang and Xiao, 2018; ``t_i = r // m`` for every
chunk is the classic case, and spends more probes). The candidates are the stored hashes
sharing a chunk value within its radius with the query; only those are compared in full.

Each chunk is an index over the whole set, kept as one sorted array of row numbers and an
offset table by chunk value (no per-bucket Python objects; all chunks' arrays laid end to
end, so a query's probes of every chunk are gathered in a few vectorised steps), so a
million 256-bit hashes build in about a second and take ``N × (bits/8 + 4 × m)`` bytes.
Hashes added after the build sit in a small overflow matrix that is compared in full;
removals are tombstones.
``compact()`` folds both into a fresh build — the matcher calls it when the overflow grows
past ``overflow_limit``.

Chunk widths default to 16 bits: for PDQ (256 bits, radius 31) that is 16 chunks searched
at radius 1 (272 probes), for pHash (64 bits, radius 10) 4 chunks at radii 2, 2, 2 and 1
(428 probes, against 548 at radius 2 each). :meth:`HammingIndex.search_many` searches many
hashes at once: one-word hashes in a few vectorised steps for the whole batch.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from numpy.typing import NDArray

WORD_BITS = 64
# At most this many hashes are gathered at once by a batch search (8 bytes each).
GATHER_SLOTS = 1 << 18


def parse_hex(value: str, bits: int) -> NDArray[np.uint64]:
    """A hex hash as ``bits // 64`` big-endian 64-bit words."""
    if len(value) != bits // 4:
        raise ValueError(f"a {bits}-bit hash has {bits // 4} hex digits, not {len(value)}")
    try:
        raw = bytes.fromhex(value)
    except ValueError as exc:
        raise ValueError("not a hexadecimal hash") from exc
    if len(raw) * 2 != len(value):  # blanks among the digits, which fromhex passes over
        raise ValueError("not a hexadecimal hash")
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

    def near(
        self, probes: NDArray[np.int64], queries: NDArray[np.uint64], limit: int
    ) -> list[dict[int, int]]:
        """For each of ``queries``, row -> distance for the stored hashes within ``limit`` of
        it among its buckets, ``probes[i]`` (chunk ``c``'s value plus ``c * 2**chunk_bits``),
        and the spill. Queries are gathered a slice at a time, so that the gathered hashes
        stay within ``GATHER_SLOTS``."""
        found: list[dict[int, int]] = [{} for _ in range(len(queries))]
        per_query = probes.shape[1] * self.width
        step = max(1, GATHER_SLOTS // per_query)
        flat_rows = self.rows.reshape(-1)
        for lo in range(0, len(queries), step):
            part = probes[lo : lo + step].reshape(-1)
            # (Every probe is a bucket of the table by construction: no bounds to check.)
            gathered = self.hashes.take(part, axis=0, mode="clip").reshape(-1, per_query)
            place, near = close(gathered, queries[lo : lo + step], limit, scratch=True)
            if place.size:
                # A place is (query, probe, slot) in the gathered hashes, flattened.
                rows = flat_rows.take(
                    part.take(place // self.width) * self.width + place % self.width
                )
                real = rows != self.PAD_ROW  # not a padding slot close by chance
                which = (place[real] // per_query + lo).tolist()
                for i, row, d in zip(which, rows[real].tolist(), near[real].tolist(), strict=True):
                    found[i][row] = d
        if self.spill_rows.size:
            step = max(1, GATHER_SLOTS // len(self.spill_rows))
            for lo in range(0, len(queries), step):
                place, near = close(self.spill_hashes, queries[lo : lo + step], limit)
                if place.size:
                    which = (place // len(self.spill_rows) + lo).tolist()
                    rows = self.spill_rows.take(place % len(self.spill_rows)).tolist()
                    for i, row, d in zip(which, rows, near.tolist(), strict=True):
                        found[i][row] = d
        return found


def close(
    hashes: NDArray[np.uint64], queries: NDArray[np.uint64], limit: int, *, scratch: bool = False
) -> tuple[NDArray[np.intp], NDArray[np.uint8]]:
    """Where ``hashes`` (a row per query, or one row for all) are within ``limit`` of
    ``queries`` (one-word hashes), as places in the rows laid end to end, and the distances
    there. With ``scratch``, ``hashes`` is the caller's to spend: compared in place, without
    a copy of its size."""
    against = queries[:, None] if len(queries) > 1 else queries[0]
    differ = np.bitwise_xor(hashes, against, out=hashes if scratch else None)
    distances = np.bitwise_count(differ).reshape(-1)
    place = (distances <= limit).nonzero()[0]
    return place, distances.take(place)


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
        self.chunk_radii = self.radii(radius, self.chunks)
        self.overflow_limit = overflow_limit
        self._words = bits // WORD_BITS
        # Every probe of a query: which chunk it flips, and the bits it flips there.
        flips = [self._flip_masks(chunk_bits, r) for r in self.chunk_radii]
        self._probe_chunk = np.repeat(np.arange(self.chunks), [len(f) for f in flips])
        self._probe_masks = np.concatenate(flips)
        self._hashes: NDArray[np.uint64] = np.zeros((0, self._words), dtype=np.uint64)
        self._flat: NDArray[np.uint64] | None = None
        self._keys: list[Hashable] = []
        self._alive: NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self._row_of: dict[Hashable, int] = {}  # the live rows
        self._index: _ChunkIndex | None = None
        self._padded: _PaddedBuckets | None = None
        # Per chunk, the bit shift of its value in the hash as one integer; per probe, where
        # its chunk's values start in the built layout's table (set by the build).
        self._shifts = [bits - chunk_bits * (c + 1) for c in range(self.chunks)]
        # For one-word hashes, the same as an array, to take every query's chunks at once.
        self._word_shifts = np.array(self._shifts if self._words == 1 else [], dtype=np.uint64)
        self._probe_bases = np.zeros(len(self._probe_chunk), dtype=np.int64)
        self._overflow: dict[Hashable, NDArray[np.uint64]] = {}
        # The overflow as one matrix, made on the first search after it changed.
        self._overflow_matrix: tuple[list[Hashable], NDArray[np.uint64]] | None = None

    @staticmethod
    def radii(radius: int, chunks: int) -> list[int]:
        """Each chunk's search radius: as even as can be, summing to ``radius - chunks + 1``
        (a radius of -1 leaves a chunk unprobed, when the radius is below the chunk count)."""
        each, more = divmod(radius - chunks + 1, chunks)
        return [each + 1] * more + [each] * (chunks - more)

    @staticmethod
    def _flip_masks(width: int, radius: int) -> NDArray[np.int64]:
        masks = [0] if radius >= 0 else []
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
        stride = 1 << self.chunk_bits if self._padded is not None else (1 << self.chunk_bits) + 1
        self._probe_bases = self._probe_chunk.astype(np.int64) * stride

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
        whole = int(value, 16) if isinstance(value, str) else self._whole(query)
        limit = self._limit(radius)
        hits: list[Hit] = []
        if self._padded is not None:
            found = self._padded.near(self._probes(whole)[None, :], query, limit)[0]
            for row in sorted(found):
                if self._alive[row]:
                    hits.append(Hit(self._keys[row], found[row]))
        elif self._index is not None and len(self._keys):
            # Candidates come with repeats and removed rows: comparing them all costs less
            # than sorting them out first, and only the few close ones are sorted out after.
            candidates = self._index.gather(self._probes(whole))
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
            keys, matrix = self._overflow_rows()
            distances = np.bitwise_count(matrix ^ query).sum(axis=1)
            for i in np.flatnonzero(distances <= limit).tolist():
                hits.append(Hit(keys[i], int(distances[i])))
        hits.sort(key=lambda h: h.distance)
        return hits

    def search_many(
        self, values: Sequence[str | NDArray[np.uint64]], radius: int | None = None
    ) -> list[list[Hit]]:
        """:meth:`search` for each of ``values``, in order. One-word hashes in padded buckets
        (pHash, unless too skewed) are searched together: the whole batch's probes, gathers
        and comparisons are each one vectorised step, whatever the batch's size. A malformed
        value raises ValueError, and the batch is not searched."""
        if self._padded is None or not values:
            return [self.search(value, radius) for value in values]
        queries = self._one_words(values)
        limit = self._limit(radius)
        mask = np.uint64((1 << self.chunk_bits) - 1)
        chunks = ((queries[:, None] >> self._word_shifts) & mask).astype(np.int64)
        probes = (chunks.take(self._probe_chunk, axis=1) ^ self._probe_masks) + self._probe_bases
        found = self._padded.near(probes, queries, limit)
        alive, keys = self._alive, self._keys
        results = [
            [Hit(keys[row], near[row]) for row in sorted(near) if alive[row]] for near in found
        ]
        if self._overflow:
            overflow_keys, matrix = self._overflow_rows()
            place, near = close(matrix[:, 0], queries, limit)
            which, column = np.divmod(place, len(matrix))
            for i, c, d in zip(which.tolist(), column.tolist(), near.tolist(), strict=True):
                results[i].append(Hit(overflow_keys[c], d))
        for hits in results:
            hits.sort(key=lambda h: h.distance)
        return results

    def _limit(self, radius: int | None) -> int:
        return self.radius if radius is None else min(radius, self.radius)

    def _one_words(self, values: Sequence[str | NDArray[np.uint64]]) -> NDArray[np.uint64]:
        """One-word hashes as one array: hex strings decoded in one step when all are well
        formed, and otherwise one by one, so that the first malformed one is named."""
        digits = WORD_BITS // 4
        if all(isinstance(v, str) and len(v) == digits for v in values):
            try:
                raw = bytes.fromhex("".join(values))  # type: ignore[arg-type]
            except ValueError:
                raw = b""
            if len(raw) * 2 == digits * len(values):  # no blanks hidden among the digits
                return np.frombuffer(raw, dtype=">u8").astype(np.uint64)
        words = [self._as_words(value)[0] for value in values]
        return np.array(words, dtype=np.uint64).reshape(len(values))

    def _overflow_rows(self) -> tuple[list[Hashable], NDArray[np.uint64]]:
        if self._overflow_matrix is None:
            matrix = np.array(list(self._overflow.values()), dtype=np.uint64)
            self._overflow_matrix = (list(self._overflow), matrix.reshape(-1, self._words))
        return self._overflow_matrix

    @staticmethod
    def _whole(query: NDArray[np.uint64]) -> int:
        return int.from_bytes(query.astype(">u8").tobytes(), "big")

    def _probes(self, whole: int) -> NDArray[np.int64]:
        """Every chunk's values within its radius, each placed by its chunk's base."""
        mask = (1 << self.chunk_bits) - 1
        values = np.array([(whole >> shift) & mask for shift in self._shifts], dtype=np.int64)
        return (values.take(self._probe_chunk) ^ self._probe_masks) + self._probe_bases


def linear_scan(
    hashes: NDArray[np.uint64], query: NDArray[np.uint64], radius: int
) -> Sequence[int]:
    """The rows of ``hashes`` within ``radius`` of ``query`` by comparing every one: the
    baseline the index is measured and property-tested against."""
    distances = np.bitwise_count(hashes ^ query).sum(axis=1)
    return np.flatnonzero(distances <= radius).tolist()
