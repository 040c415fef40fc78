"""A batch costs a constant number of SQL statements, whatever its size: the import of a
large file calls ``submit`` with batches, so this is what keeps it fast."""

from __future__ import annotations

from typing import Any

import pytest

from alliance.indicators import service
from tests.alliance.indicators.builders import submission, viewer
from tests.schema.test_query_counts import recorded_statements


def batch(size: int, start: int, **overrides: Any) -> list[service.Submission]:
    return [
        submission(type="domain", value=f"fake-{n:04}.shop", group_key=f"case-{n % 3}", **overrides)
        for n in range(start, start + size)
    ]


@pytest.mark.parametrize("resubmit", [False, True], ids=["new", "updated"])
async def test_statements_do_not_grow_with_the_batch(session, engine, demo, resubmit) -> None:
    acme = await viewer(session, demo["orgs"]["acme-motors"])
    if resubmit:
        await service.submit(session, acme, batch(10, 0))
        await service.submit(session, acme, batch(100, 1000))
        await session.flush()

    with recorded_statements(engine) as small:
        results = await service.submit(session, acme, batch(10, 0, confidence=33))
        await session.flush()
    with recorded_statements(engine) as large:
        more = await service.submit(session, acme, batch(100, 1000, confidence=33))
        await session.flush()

    assert all(r.error is None for r in [*results, *more])
    assert all(r.created is not resubmit for r in [*results, *more])
    assert len(large) == len(small), "\n".join(large)
