"""Room on CPython's frame stack for a measurement that recurses deeply.

CPython (3.11 and later) keeps Python frames on a per-thread stack made of chunks, 16 KiB
each, allocated when a call does not fit and freed as soon as the call that opened the chunk
returns. A recursion that keeps going back and forth across a chunk's end (graphql-core
completing thousands of leaf fields at the same depth does) maps and unmaps a chunk per
call: a page measured 8.7 ms or 34 ms by where its stack happened to start. A floor is
measured without that noise: :func:`with_frame_room` calls ``fn`` from a frame so large that
its chunk (1 MiB) leaves about half a megabyte free above it, so nothing ``fn`` calls opens
a new chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TypeVar

T = TypeVar("T")

_SLOTS = 66_000  # 8-byte slots: just over half of a 1 MiB chunk, the rest left free


@cache
def _roomy() -> Callable[[Callable[[], object]], object]:
    names = [f"v{i}" for i in range(_SLOTS)]
    source = f"def roomy(fn):\n    {' = '.join(names)} = None\n    return fn()\n"
    namespace: dict[str, object] = {}
    exec(compile(source, "<frame room>", "exec"), namespace)  # noqa: S102
    return namespace["roomy"]  # type: ignore[return-value]


def with_frame_room(fn: Callable[[], T]) -> T:
    """``fn()``, called with about 500 KiB of frame stack free above it."""
    return _roomy()(fn)  # type: ignore[return-value]
