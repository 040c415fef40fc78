"""Choosing each caller's limit (defaults, the per-client hook and its cache) and keeping the
audit of refusals to one entry per caller and interval."""

from __future__ import annotations

import logging

import pytest

from alliance.config import RateLimitSettings
from alliance.ratelimit.bucket import Limit
from alliance.ratelimit.limiter import (
    OVERRIDE_CACHE_SECONDS,
    DenialThrottle,
    RateLimiter,
    Requester,
)
from alliance.ratelimit.stores import InProcessBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(clock: Clock | None = None, **settings: object) -> RateLimiter:
    return RateLimiter(
        RateLimitSettings(**{"requests_per_minute": 600, "burst": 100, **settings}),
        InProcessBuckets(),
        clock=clock or Clock(),
    )


async def test_without_a_hook_everyone_gets_the_default() -> None:
    rl = limiter()
    assert await rl.limit_for("partner") == Limit(600, 100)
    assert await rl.limit_for(None) == Limit(600, 100)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync-hook", "async-hook"])
async def test_the_hook_sets_a_clients_rate(asynchronous: bool) -> None:
    limits = {"partner": 6_000, "tiny": 10}

    def lookup(client_id: str) -> int | None:
        return limits.get(client_id)

    async def alookup(client_id: str) -> int | None:
        return limits.get(client_id)

    rl = limiter()
    rl.set_override(alookup if asynchronous else lookup)

    # The burst scales with the rate: ten seconds' worth, as in the default 600/100.
    assert await rl.limit_for("partner") == Limit(6_000, 1_000)
    assert await rl.limit_for("tiny") == Limit(10, 2), "rounded up, never below one"
    assert await rl.limit_for("unknown") == Limit(600, 100)
    assert await rl.limit_for(None) == Limit(600, 100), "anonymous callers: the default"


def test_a_scaled_burst_stays_within_bounds() -> None:
    rl = limiter(requests_per_minute=1, burst=100)
    assert rl.limit_of(1_000_000) == Limit(1_000_000, 100_000)
    assert limiter(requests_per_minute=1_000, burst=1).limit_of(1) == Limit(1, 1)


async def test_hook_answers_are_cached_for_a_while() -> None:
    clock, calls = Clock(), []

    def lookup(client_id: str) -> int:
        calls.append(client_id)
        return 60 * len(calls)

    rl = limiter(clock)
    rl.set_override(lookup)
    assert (await rl.limit_for("p")).requests_per_minute == 60
    clock.now += OVERRIDE_CACHE_SECONDS - 1
    assert (await rl.limit_for("p")).requests_per_minute == 60
    clock.now += 1
    assert (await rl.limit_for("p")).requests_per_minute == 120
    assert calls == ["p", "p"]
    rl.set_override(lookup)  # a new hook starts afresh
    assert (await rl.limit_for("p")).requests_per_minute == 180


@pytest.mark.parametrize("answer", [0, -5, True, 2.5, "100"])
async def test_a_nonsense_answer_falls_back_to_the_default(answer: object, caplog) -> None:
    rl = limiter()
    rl.set_override(lambda _client: answer)  # type: ignore[arg-type, return-value]
    with caplog.at_level(logging.ERROR, logger="alliance.ratelimit"):
        assert await rl.limit_for("p") == Limit(600, 100)
    assert "using the default" in caplog.text


async def test_a_failing_hook_falls_back_to_the_default(caplog) -> None:
    def broken(_client: str) -> int:
        raise ConnectionError("database down")

    rl = limiter()
    rl.set_override(broken)
    with caplog.at_level(logging.ERROR, logger="alliance.ratelimit"):
        assert await rl.limit_for("p") == Limit(600, 100)
    assert "database down" in caplog.text


async def test_take_uses_the_callers_own_bucket_and_limit() -> None:
    rl = limiter(requests_per_minute=60, burst=2)
    rl.set_override(lambda client: 1 if client == "slow" else None)
    slow, other = Requester.client("slow"), Requester.client("other")

    assert [(await rl.take(slow))[0].allowed for _ in range(2)] == [True, False]
    assert (await rl.take(slow))[1] == Limit(1, 1)
    decision, limit = await rl.take(other)
    assert decision.allowed
    assert limit == Limit(60, 2)
    assert (await rl.take(Requester.address("10.0.0.1")))[1] == Limit(60, 2)
    assert Requester.address("10.0.0.1").key == "ip:10.0.0.1"
    assert Requester.client("x").key == "client:x"


def test_the_throttle_audits_the_first_refusal_then_one_per_interval() -> None:
    clock = Clock()
    throttle = DenialThrottle(60.0, clock=clock)
    assert throttle.refused("a") == 1
    assert throttle.refused("b") == 1, "per caller"
    assert [throttle.refused("a") for _ in range(5)] == [None] * 5
    clock.now += 59.9
    assert throttle.refused("a") is None
    clock.now += 0.1
    assert throttle.refused("a") == 7, "the refusals since the last entry, this one included"
    assert throttle.refused("a") is None
