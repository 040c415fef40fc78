"""The NDJSON endpoint's line reader: lines split anywhere across arrivals, overlong lines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance.listings import http

LIMIT = 8


async def _arrive(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def _read(parts: list[bytes]) -> list[bytes]:
    async def collect() -> list[bytes]:
        return [line async for line in http._lines(_arrive(parts))]

    return asyncio.run(collect())


def _expected(body: bytes) -> list[bytes]:
    lines = body.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return [line if len(line) <= LIMIT else line[: LIMIT + 1] for line in lines]


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(st.binary(max_size=20).map(lambda b: b.replace(b"\n", b"x")), max_size=12),
    trailing=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=10),
)
def test_lines_are_the_same_however_the_body_arrives(
    monkeypatch: pytest.MonkeyPatch, lines: list[bytes], trailing: bool, cuts: list[int]
) -> None:
    """Each line once, in order, an overlong one cut to one byte over the limit (and nothing
    of its rest taken for a line of its own), whatever the arrivals' boundaries."""
    monkeypatch.setattr(http, "MAX_LINE_BYTES", LIMIT)
    body = b"\n".join(lines) + (b"\n" if trailing and lines else b"")
    places = sorted({c for c in cuts if c < len(body)} | {0, len(body)})
    parts = [body[a:b] for a, b in zip(places, places[1:], strict=False)]
    assert _read(parts) == _expected(body)


def test_an_overlong_line_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "MAX_LINE_BYTES", LIMIT)
    parts = [b'{"a":1}\n', b"y" * 5, b"y" * 5, b"y" * 30, b'yy\n{"b":2}']
    assert _read(parts) == [b'{"a":1}', b"y" * (LIMIT + 1), b'{"b":2}']
