"""Bucket stores: in this process, and in Redis (the real one, when ALLIANCE_TEST_BROKER_URL
is set), where the Lua script must decide exactly what the pure functions decide."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator

import pytest

from alliance.ratelimit.bucket import UNITS_PER_TOKEN, Limit, take
from alliance.ratelimit.stores import InProcessBuckets, RedisBuckets
from tests.conftest import BROKER_URL, NO_BROKER

SECOND = 1_000_000


class Clock:
    def __init__(self, now: int = 1_700_000_000 * SECOND) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


async def test_in_process_buckets_follow_the_pure_functions() -> None:
    clock = Clock()
    store = InProcessBuckets(clock=clock)
    limit = Limit(60, 2)
    assert [(await store.take("a", limit)).allowed for _ in range(3)] == [True, True, False]
    assert (await store.take("b", limit)).allowed, "buckets are per key"
    clock.now += SECOND
    assert (await store.take("a", limit)).allowed


async def test_in_process_buckets_forget_full_ones_first_then_the_longest_idle() -> None:
    """Past ``max_keys`` the full buckets go (forgetting them changes nothing), then the
    longest-idle until half the room is free, so the sweep runs once per many requests."""
    clock = Clock()
    store = InProcessBuckets(clock=clock, max_keys=4)
    limit = Limit(60, 1)  # one token, one more a second
    for key in ("full-1", "full-2"):
        await store.take(key, limit)
    clock.now += 2 * SECOND  # both refilled
    for key in ("a", "b", "c"):
        assert (await store.take(key, limit)).allowed  # each now empty
    assert len(store) == 2, "full-1 and full-2 forgotten, then the longest idle (a)"
    assert not (await store.take("b", limit)).allowed, "b is remembered empty"
    assert not (await store.take("c", limit)).allowed, "c is remembered empty"
    assert (await store.take("a", limit)).allowed, "a was forgotten: it starts full again"


@pytest.fixture
async def redis_store() -> AsyncIterator[tuple[RedisBuckets, Clock]]:
    if not BROKER_URL:
        pytest.skip(NO_BROKER)
    clock = Clock()
    prefix = f"alliance-test:ratelimit:{uuid.uuid4().hex}:"
    store = RedisBuckets.from_url(BROKER_URL, prefix=prefix, clock=clock)
    try:
        yield store, clock
    finally:
        keys = [k async for k in store.client.scan_iter(match=prefix + "*")]
        if keys:
            await store.client.delete(*keys)
        await store.aclose()


async def test_the_redis_script_decides_exactly_as_the_pure_functions(redis_store) -> None:
    store, clock = redis_store
    rng = random.Random(7)
    limits = [Limit(1, 1), Limit(90, 3), Limit(6_000, 10), Limit(1_000_000, 100_000)]
    model: dict[tuple[str, Limit], object] = {}
    for _ in range(400):
        clock.now += rng.choice([0, 0, 1, 17, 999, 333_333, 2 * SECOND, 61 * SECOND])
        if rng.random() < 0.05:
            clock.now -= rng.randint(1, 5 * SECOND)  # a clock that steps back
        key, limit = rng.choice(["a", "b"]), rng.choice(limits)
        # One key per limit, as the limiter keeps a client on one limit at a time.
        expected = take(model.get((key, limit)), limit, clock.now)  # type: ignore[arg-type]
        got = await store.take(f"{key}:{limit.requests_per_minute}", limit)
        model[(key, limit)] = expected.bucket
        assert got == expected


async def test_the_redis_script_takes_its_clock_from_redis(redis_store) -> None:
    store, _ = redis_store
    store.clock = None
    limit = Limit(requests_per_minute=1, burst=3)
    decisions = [await store.take("server-time", limit) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    # Exactly a minute per token, less the few microseconds the calls took.
    assert 59 * SECOND < decisions[-1].retry_after_us <= 60 * SECOND
    assert decisions[-1].retry_after_seconds == 60
    ttl = await store.client.pttl(store.prefix + "server-time")
    assert 0 < ttl <= 3 * 60_000 + 2_000, "an idle bucket expires once it would be full"


async def test_concurrent_takes_never_overspend_a_bucket(redis_store) -> None:
    store, _ = redis_store
    store.clock = None
    limit = Limit(requests_per_minute=1, burst=10)
    decisions = await asyncio.gather(*(store.take("crowded", limit) for _ in range(60)))
    assert sum(d.allowed for d in decisions) == 10
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(10))


async def test_large_numbers_survive_the_round_trip(redis_store) -> None:
    store, clock = redis_store
    limit = Limit(1_000_000, 100_000)
    clock.now = 2**52  # far beyond today's microseconds
    decision = await store.take("big", limit)
    assert decision.bucket.units == limit.capacity - UNITS_PER_TOKEN
    assert decision.bucket.updated_us == 2**52
    assert decision.remaining == 99_999
