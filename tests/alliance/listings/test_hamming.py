"""The Hamming index finds exactly what a linear scan finds, through adds, removals and
compaction; property-tested on hashes planted at every distance up to the radius."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.listings.hamming import HammingIndex, hamming, linear_scan, parse_hex


def random_hashes(rng: np.random.Generator, n: int, words: int) -> np.ndarray:
    return rng.integers(0, 2**64, size=(n, words), dtype=np.uint64)


def flip(words: np.ndarray, positions: list[int]) -> np.ndarray:
    out = words.copy()
    for p in positions:
        out[p // 64] ^= np.uint64(1 << (63 - p % 64))
    return out


@pytest.mark.parametrize(("bits", "radius"), [(64, 10), (256, 31)])
def test_finds_every_planted_neighbour_and_nothing_beyond_the_radius(
    bits: int, radius: int
) -> None:
    rng = np.random.default_rng(7)
    words = bits // 64
    hashes = random_hashes(rng, 5000, words)
    query = hashes[0]
    # Plant neighbours at every distance 0..radius+3 from the query.
    planted = {}
    for distance in range(radius + 4):
        positions = rng.choice(bits, size=distance, replace=False).tolist()
        planted[f"near-{distance}"] = flip(query, positions)
    index = HammingIndex(bits, radius)
    items = [(f"h{i}", h) for i, h in enumerate(hashes)] + list(planted.items())
    index.build(items)
    found = {hit.key: hit.distance for hit in index.search(query)}
    every = np.array([h for _, h in items], dtype=np.uint64)
    expected = {items[row][0] for row in linear_scan(every, query, radius)}
    assert set(found) == expected
    for distance in range(radius + 4):
        assert (f"near-{distance}" in found) == (distance <= radius)
    assert all(found[k] == hamming(dict(items)[k], query) for k in found)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    distances=st.lists(st.integers(0, 40), min_size=1, max_size=12),
    removed=st.sets(st.integers(0, 11), max_size=4),
)
def test_agrees_with_a_linear_scan_through_adds_and_removals(
    seed: int, distances: list[int], removed: set[int]
) -> None:
    rng = np.random.default_rng(seed)
    base = random_hashes(rng, 300, 4)
    query = random_hashes(rng, 1, 4)[0]
    index = HammingIndex(256, 31, overflow_limit=5)
    index.build((f"b{i}", h) for i, h in enumerate(base))
    live = {f"b{i}": h for i, h in enumerate(base)}
    for n, distance in enumerate(distances):
        h = flip(query, rng.choice(256, size=distance, replace=False).tolist())
        index.add(f"a{n}", h)  # some of these trigger compaction (limit 5)
        live[f"a{n}"] = h
    for n in removed:
        index.remove(f"a{n}")
        live.pop(f"a{n}", None)
    keys = list(live)
    matrix = np.array([live[k] for k in keys], dtype=np.uint64)
    expected = {keys[r] for r in linear_scan(matrix, query, 31)}
    assert {hit.key for hit in index.search(query)} == expected
    assert len(index) == len(live)


def test_replacing_a_key_moves_it() -> None:
    index = HammingIndex(64, 10)
    index.build([("a", "0000000000000000")])
    index.add("a", "ffffffffffffffff")
    assert [h.key for h in index.search("0000000000000000")] == []
    assert [(h.key, h.distance) for h in index.search("fffffffffffffffe")] == [("a", 1)]


def test_a_narrower_radius_per_query() -> None:
    index = HammingIndex(64, 10)
    index.build([("one", "0000000000000001"), ("three", "0000000000000007")])
    assert [h.key for h in index.search("0000000000000000", radius=2)] == ["one"]
    assert [h.key for h in index.search("0000000000000000")] == ["one", "three"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "16 hex digits"),
        ("zz" * 8, "not a hexadecimal hash"),
        ("00 11 2233445566", "not a hexadecimal hash"),
    ],
)
def test_bad_hashes_are_refused(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hex(value, 64)


def test_bad_geometry_is_refused() -> None:
    with pytest.raises(ValueError, match="multiple of 64"):
        HammingIndex(100, 3)
    with pytest.raises(ValueError, match="radius"):
        HammingIndex(64, 64)


def crowded_hashes(rng: np.random.Generator, n: int, shared: int) -> np.ndarray:
    """``n`` pHashes, ``shared`` of which have the same top 16 bits: one bucket far fuller
    than the rest, as near-identical product photos give."""
    hashes = random_hashes(rng, n, 1)
    top = np.uint64(0xABCD) << np.uint64(48)
    low = np.uint64((1 << 48) - 1)
    hashes[:shared, 0] = (hashes[:shared, 0] & low) | top
    return hashes


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shared=st.sampled_from([0, 40, 300, 5000]))
def test_one_word_hashes_agree_with_a_linear_scan_however_crowded_the_buckets(
    seed: int, shared: int
) -> None:
    """pHash buckets are padded to a fixed width and what does not fit is compared in full
    (or, too crowded to pad, searched by bucket lists): every way finds what a scan does."""
    rng = np.random.default_rng(seed)
    hashes = crowded_hashes(rng, 6000, shared)
    index = HammingIndex(64, 10)
    index.build((i, h) for i, h in enumerate(hashes))
    padded = index._padded
    if shared == 5000:
        assert padded is None  # one bucket of 5,000: the bucket lists serve
    else:
        assert padded is not None
        if shared == 300:
            assert padded.spill_rows.size  # the crowded bucket overflows its width
    for n in range(12):
        # Near the crowded rows, near ordinary ones, and at random.
        base = hashes[rng.integers(0, max(shared, 1))] if n % 3 == 0 else hashes[-1 - n]
        query = base if n % 3 != 2 else random_hashes(rng, 1, 1)[0]
        query = flip(query, rng.choice(64, size=int(rng.integers(0, 12)), replace=False).tolist())
        found = {hit.key: hit.distance for hit in index.search(query)}
        expected = set(linear_scan(hashes, query, 10))
        assert set(found) == expected
        assert all(found[row] == hamming(hashes[row], query) for row in found)


def test_chunk_radii_follow_the_generalised_pigeonhole() -> None:
    assert HammingIndex.radii(10, 4) == [2, 2, 2, 1]  # pHash: 428 probes, not 548
    assert HammingIndex.radii(31, 16) == [1] * 16  # PDQ
    assert HammingIndex.radii(0, 4) == [0, -1, -1, -1]  # an exact match: one chunk suffices
    for chunks in (1, 2, 4, 8, 16):
        for radius in range(64):
            radii = HammingIndex.radii(radius, chunks)
            assert sum(radii) == radius - chunks + 1
            assert max(radii) - min(radii) <= 1


def test_every_spread_of_the_radius_over_the_chunks_is_found() -> None:
    """Ten flipped bits shared out over the four 16-bit chunks in every possible way: each
    neighbour shares some chunk within that chunk's radius, and is found."""
    rng = np.random.default_rng(3)
    query = random_hashes(rng, 1, 1)[0]
    planted = {}
    for a in range(11):
        for b in range(11 - a):
            for c in range(11 - a - b):
                spread = (a, b, c, 10 - a - b - c)
                positions = [
                    16 * chunk + p
                    for chunk, n in enumerate(spread)
                    for p in rng.choice(16, size=n, replace=False).tolist()
                ]
                planted[spread] = flip(query, positions)
    index = HammingIndex(64, 10)
    index.build([*planted.items(), *((i, h) for i, h in enumerate(random_hashes(rng, 3000, 1)))])
    found = {hit.key for hit in index.search(query) if isinstance(hit.key, tuple)}
    assert found == set(planted)  # 286 spreads
    one_more = flip(planted[(3, 3, 2, 2)], [63])
    index.add("eleven", one_more)
    assert "eleven" not in {hit.key for hit in index.search(query)}


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    shared=st.sampled_from([0, 300, 5000]),
    queries=st.integers(0, 40),
    added=st.integers(0, 30),
    removed=st.integers(0, 30),
    radius=st.sampled_from([None, 0, 3, 10]),
)
def test_a_batch_search_answers_as_each_search_does(
    seed: int, shared: int, queries: int, added: int, removed: int, radius: int | None
) -> None:
    rng = np.random.default_rng(seed)
    hashes = crowded_hashes(rng, 3000, shared)
    index = HammingIndex(64, 10)
    index.build((i, h) for i, h in enumerate(hashes))
    live: dict[object, np.ndarray] = dict(enumerate(hashes))
    for n in range(added):  # the overflow, near the rows already there
        live[f"new-{n}"] = flip(hashes[n], rng.choice(64, size=n % 12, replace=False).tolist())
        index.add(f"new-{n}", live[f"new-{n}"])
    for row in rng.choice(len(hashes), size=removed, replace=False).tolist():
        index.remove(row)
        del live[row]
    values = [
        flip(
            hashes[rng.integers(0, len(hashes))],
            rng.choice(64, size=k % 13, replace=False).tolist(),
        )
        for k in range(queries)
    ]
    as_hex = [f"{int(v[0]):016x}" for v in values]
    batch = index.search_many(as_hex + as_hex[:3], radius)  # repeats answered alike
    assert batch == [index.search(v, radius) for v in as_hex + as_hex[:3]]
    assert index.search_many(values, radius) == batch[:queries]
    keys, matrix = list(live), np.array(list(live.values()), dtype=np.uint64)
    limit = 10 if radius is None else radius
    for value, hits in zip(values, batch, strict=False):
        assert {h.key for h in hits} == {keys[r] for r in linear_scan(matrix, value, limit)}
        assert all(h.distance == hamming(live[h.key], value) for h in hits)


def test_a_batch_with_a_malformed_hash_is_refused_whole() -> None:
    index = HammingIndex(64, 10)
    index.build([("a", "00000000000000ff")])
    assert index.search_many([]) == []
    for bad in ("00 11 2233445566", "zz" * 8, "abc"):
        with pytest.raises(ValueError, match="hex"):
            index.search_many(["00000000000000ff", bad])
    (hits,) = index.search_many(["000000000000000f"])
    assert [(h.key, h.distance) for h in hits] == [("a", 4)]
