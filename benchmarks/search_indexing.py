"""Indexing throughput into Tantivy: N synthetic indicator documents, the way
``alliance search reindex`` writes them (one held writer, committed once).

    python -m benchmarks.search_indexing [--documents 100000] [--threads 2]
    python -m benchmarks.search_indexing --documents 1000000        # the goal: >= 50,000/s

Making the documents (Python objects) is timed apart from indexing them.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from benchmarks._search_corpus import batches
from search.tantivy_backend import TantivyBackend


async def run(documents: int, threads: int, batch: int, root: Path) -> tuple[float, float]:
    backend = TantivyBackend(root, writer_threads=threads)
    await backend.ensure_index()
    rebuild = await backend.rebuild()
    making = indexing = 0.0
    started = time.perf_counter()
    source = batches(documents, batch)
    while True:
        t = time.perf_counter()
        page = next(source, None)
        making += time.perf_counter() - t
        if page is None:
            break
        t = time.perf_counter()
        rebuild._bulk(page)
        indexing += time.perf_counter() - t
    t = time.perf_counter()
    await rebuild.finish()
    indexing += time.perf_counter() - t
    total = time.perf_counter() - started
    assert await backend.count(_everything()) == documents
    return indexing, total


def _everything():  # type: ignore[no-untyped-def]
    from alliance.sharing.policy import AllOf

    return AllOf(())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2, help="Tantivy indexing threads")
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, default=None, help="index here (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.dir or Path(tmp) / "search"
        indexing, total = asyncio.run(run(args.documents, args.threads, args.batch, root))
    print(f"tantivy indexing, {args.documents:,} documents, {args.threads} writer threads")
    print(
        f"  indexing (analysis + add + commit): {indexing:8.2f} s  {args.documents / indexing:10,.0f} docs/s"
    )
    print(
        f"  end to end (with making the docs):  {total:8.2f} s  {args.documents / total:10,.0f} docs/s"
    )


if __name__ == "__main__":
    main()
