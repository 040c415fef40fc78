"""PDQ near-duplicate lookup: the listing matcher's Hamming index against a NumPy linear scan.

Builds ``--hashes`` random 256-bit hashes (PDQ's size; unrelated images' hashes are close to
uniformly random), plants a neighbour within the radius for half of the queries, and times
each query through the multi-index (``alliance.listings.hamming``) and through a vectorised
linear scan of every hash (XOR + popcount in NumPy), checking both return the same rows.

    python -m benchmarks.pdq_lookup [--hashes 1000000] [--queries 1000] [--radius 31]

Goal (the listing-check issue): p99 under 5 ms per query at 1,000,000 hashes.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from alliance.listings.hamming import HammingIndex, linear_scan


def percentile(samples: list[float], p: float) -> float:
    return float(np.percentile(np.array(samples), p))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hashes", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--radius", type=int, default=31)
    parser.add_argument("--scan-queries", type=int, default=50, help="linear scans timed")
    args = parser.parse_args()

    rng = np.random.default_rng(2014)
    hashes = rng.integers(0, 2**64, size=(args.hashes, 4), dtype=np.uint64)
    queries = rng.integers(0, 2**64, size=(args.queries, 4), dtype=np.uint64)
    for q in range(0, args.queries, 2):  # plant a neighbour at a random distance <= radius
        row = int(rng.integers(args.hashes))
        hashes[row] = queries[q]
        for p in rng.choice(256, size=int(rng.integers(args.radius + 1)), replace=False):
            hashes[row, p // 64] ^= np.uint64(1 << (63 - int(p) % 64))

    started = time.perf_counter()
    index = HammingIndex(256, args.radius)
    index.build((i, hashes[i]) for i in range(args.hashes))
    build = time.perf_counter() - started
    print(f"hashes {args.hashes:,}  radius {args.radius}  build {build:.2f} s")

    indexed: list[float] = []
    found = 0
    for q in queries:
        t = time.perf_counter()
        hits = index.search(q)
        indexed.append((time.perf_counter() - t) * 1000)
        found += len(hits)

    scanned: list[float] = []
    for n, q in enumerate(queries[: args.scan_queries]):
        t = time.perf_counter()
        rows = linear_scan(hashes, q, args.radius)
        scanned.append((time.perf_counter() - t) * 1000)
        assert sorted(h.key for h in index.search(q)) == sorted(rows), f"query {n} disagrees"

    p50, p99 = percentile(indexed, 50), percentile(indexed, 99)
    s50, s99 = percentile(scanned, 50), percentile(scanned, 99)
    print(f"multi-index  p50 {p50:.3f} ms  p99 {p99:.3f} ms  ({found} hits over {args.queries})")
    print(f"linear scan  p50 {s50:.3f} ms  p99 {s99:.3f} ms  ({len(scanned)} queries, same rows)")
    print(f"speed-up at p50: {s50 / p50:.1f}x   goal p99 < 5 ms: {'met' if p99 < 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
