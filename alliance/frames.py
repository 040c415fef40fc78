"""Room on CPython's frame stack for the server's event loop.

CPython (3.11 and later) keeps Python frames on a per-thread stack made of chunks, 16 KiB
each: a call that does not fit in the current chunk allocates a new one, and the chunk is
freed as soon as that call returns. Executing a GraphQL page recurses some hundred frames
deep (graphql-core completing a list of objects, their fields, their nested connections);
when that depth goes back and forth across a chunk's end, every leaf field maps and unmaps
a chunk. Measured on a page of 100 indicators: graphql-core took 8.7 ms, or 34 ms when the
stack happened to start where its leaves straddled a chunk's end, and an extra frame
anywhere in the path could move a page from one to the other.

:func:`with_frame_room` calls ``fn`` from one frame large enough that its chunk (1 MiB) keeps
about half a megabyte free above it: everything ``fn`` runs (``alliance serve`` runs the
server's event loop in it) fits there, and no chunk is allocated or freed per call. The
frame costs that megabyte once per process; on an interpreter without a chunked frame stack
it is merely a function with many unused locals.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TypeVar

T = TypeVar("T")

# Eight-byte slots: just over half a 1 MiB chunk, so its other half is free above the frame.
_SLOTS = 66_000


@cache
def _roomy() -> Callable[[Callable[[], object]], object]:
    names = [f"_{i}" for i in range(_SLOTS)]
    source = f"def roomy(fn):\n    {' = '.join(names)} = None\n    return fn()\n"
    namespace: dict[str, object] = {}
    exec(compile(source, "<frame room>", "exec"), namespace)  # noqa: S102
    return namespace["roomy"]  # type: ignore[return-value]


def with_frame_room(fn: Callable[[], T]) -> T:
    """``fn()``, called with about 500 KiB of frame stack free above it."""
    return _roomy()(fn)  # type: ignore[return-value]
