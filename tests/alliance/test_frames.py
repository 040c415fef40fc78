"""The frame room the server's event loop runs above (``alliance.frames``)."""

from __future__ import annotations

import asyncio
import sys

import pytest

from alliance.frames import with_frame_room


def test_returns_what_the_call_returns() -> None:
    assert with_frame_room(lambda: "answer") == "answer"


def test_an_exception_passes_through() -> None:
    def fail() -> None:
        raise LookupError("not here")

    with pytest.raises(LookupError, match="not here"):
        with_frame_room(fail)


def test_costs_a_few_frames_of_the_recursion_limit() -> None:
    def depth() -> int:
        frame, n = sys._getframe(), 0
        while frame is not None:
            frame, n = frame.f_back, n + 1
        return n

    outside = depth()
    # with_frame_room, the roomy frame and the lambda: three more than a direct call.
    assert with_frame_room(lambda: depth()) == outside + 3

    def recurse(n: int) -> int:
        return n if n == 0 else 1 + recurse(n - 1)

    deep = sys.getrecursionlimit() - outside - 50
    assert with_frame_room(lambda: recurse(deep)) == deep


def test_an_event_loop_runs_in_it() -> None:
    async def work() -> list[int]:
        return await asyncio.gather(*(asyncio.sleep(0, result=i) for i in range(100)))

    assert with_frame_room(lambda: asyncio.run(work())) == list(range(100))
