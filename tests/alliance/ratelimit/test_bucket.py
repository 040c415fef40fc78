"""The token bucket as pure functions with an injected clock: exact bounds, exact retry times."""

from __future__ import annotations

from itertools import accumulate

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.ratelimit.bucket import UNITS_PER_TOKEN, Bucket, Decision, Limit, refill, take

SECOND = 1_000_000


def run(limit: Limit, instants: list[int]) -> list[Decision]:
    bucket, decisions = None, []
    for now in instants:
        decision = take(bucket, limit, now)
        bucket = decision.bucket
        decisions.append(decision)
    return decisions


def test_a_new_bucket_is_full() -> None:
    decision = take(None, Limit(60, 5), 0)
    assert decision.allowed
    assert decision.remaining == 4
    assert decision.retry_after_us == 0


def test_a_burst_then_a_refusal_that_says_when_to_retry() -> None:
    limit = Limit(requests_per_minute=30, burst=3)  # one token every 2 s
    decisions = run(limit, [0, 0, 0, 0])
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    refused = decisions[-1]
    assert refused.retry_after_us == 2 * SECOND
    assert refused.retry_after_seconds == 2
    assert take(refused.bucket, limit, 2 * SECOND - 1).allowed is False
    assert take(refused.bucket, limit, 2 * SECOND).allowed is True


def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one() -> None:
    bucket = Bucket(UNITS_PER_TOKEN - 1, 0)
    assert take(bucket, Limit(60_000, 1), 0).retry_after_us == 1
    assert take(bucket, Limit(60_000, 1), 0).retry_after_seconds == 1
    slow = take(Bucket(0, 0), Limit(7, 1), 0)  # 60/7 s = 8.57 s
    assert slow.retry_after_us == 8_571_429
    assert slow.retry_after_seconds == 9


def test_a_clock_going_back_mints_nothing() -> None:
    limit = Limit(60, 2)
    emptied = run(limit, [10 * SECOND, 10 * SECOND])[-1].bucket
    assert emptied.units == 0
    back = refill(emptied, limit, 5 * SECOND)
    assert back == Bucket(0, 10 * SECOND), "time before the last update is not counted twice"
    assert refill(back, limit, 11 * SECOND).units == UNITS_PER_TOKEN


def test_a_bucket_never_holds_more_than_its_burst() -> None:
    limit = Limit(600, 4)
    assert refill(Bucket(0, 0), limit, 3600 * SECOND).units == limit.capacity
    # A lowered limit (a client's override changed) caps what was saved under the old one.
    assert refill(Bucket(10 * UNITS_PER_TOKEN, 5), limit, 5).units == limit.capacity


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (1, 0), (-5, 3)])
def test_a_limit_must_be_positive(rate: int, burst: int) -> None:
    with pytest.raises(ValueError, match="positive rate and burst"):
        Limit(rate, burst)


limits = st.builds(Limit, st.integers(1, 100_000), st.integers(1, 50))
gaps = st.lists(
    st.one_of(st.just(0), st.integers(0, 2_000), st.integers(0, 3 * SECOND)),
    min_size=1,
    max_size=120,
)


@settings(max_examples=300)
@given(limit=limits, steps=gaps, start=st.integers(0, 2**50))
def test_never_more_than_burst_plus_rate_times_t_in_any_window(
    limit: Limit, steps: list[int], start: int
) -> None:
    instants = list(accumulate(steps, initial=start))
    admitted = [d.allowed for d in run(limit, instants)]
    before = list(accumulate(admitted, initial=0))  # admitted before request i
    for i in range(len(instants)):
        for j in range(i, len(instants)):
            in_window = before[j + 1] - before[i]
            window = instants[j] - instants[i]
            # In units: burst tokens, plus what the rate adds over the window.
            assert (
                in_window * UNITS_PER_TOKEN <= limit.capacity + limit.requests_per_minute * window
            )


@settings(max_examples=300)
@given(limit=limits, steps=gaps)
def test_a_refusal_names_the_first_instant_that_would_be_admitted(
    limit: Limit, steps: list[int]
) -> None:
    bucket = None
    for now in accumulate(steps):
        decision = take(bucket, limit, now)
        if not decision.allowed:
            wait = decision.retry_after_us
            assert wait > 0
            assert take(decision.bucket, limit, now + wait).allowed
            assert not take(decision.bucket, limit, now + wait - 1).allowed
        bucket = decision.bucket


@settings(max_examples=300)
@given(
    limit=st.builds(Limit, st.integers(1, 100_000), st.integers(2, 50)),
    n=st.integers(1, 400),
    data=st.data(),
)
def test_dense_traffic_gets_everything_the_rate_allows(
    limit: Limit, n: int, data: st.DataObject
) -> None:
    """Requests at least as often as tokens arrive: none of the allowance is wasted.

    (With a burst of 1 some is, by design: a bucket that holds at most one token loses what
    accrues beyond it, e.g. 1.05 tokens when a request refused at 0.95 is followed by another.)
    """
    longest_step = max(1, UNITS_PER_TOKEN // limit.requests_per_minute)
    step = data.draw(st.integers(1, longest_step))
    instants = [i * step for i in range(n)]
    admitted = sum(d.allowed for d in run(limit, instants))
    allowance = (limit.capacity + limit.requests_per_minute * instants[-1]) // UNITS_PER_TOKEN
    assert admitted == min(n, allowance)
