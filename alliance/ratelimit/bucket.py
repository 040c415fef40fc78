"""Token buckets as pure functions of (bucket, limit, now), in exact integer arithmetic.

A bucket holds up to ``burst`` tokens and gains ``requests_per_minute`` tokens a minute;
a request takes one. Amounts are counted in units of 1/60,000,000 token, so a bucket gains
exactly ``requests_per_minute`` units per microsecond: every quantity is an integer, the
Redis script computes exactly what this module computes, and no rounding can admit a
request the limit does not allow. Over any window of ``t`` microseconds a bucket admits at
most ``burst + requests_per_minute * t / 60e6`` requests.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

UNITS_PER_TOKEN = 60_000_000
MICROSECONDS = 1_000_000


def monotonic_us() -> int:
    return time.monotonic_ns() // 1000


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True, slots=True)
class Limit:
    requests_per_minute: int
    burst: int

    def __post_init__(self) -> None:
        if self.requests_per_minute < 1 or self.burst < 1:
            raise ValueError(f"a limit needs a positive rate and burst, not {self}")

    @property
    def capacity(self) -> int:
        return self.burst * UNITS_PER_TOKEN

    @property
    def refill_us(self) -> int:
        """Microseconds an empty bucket takes to fill up: after that, forgetting it is harmless."""
        return _ceil_div(self.capacity, self.requests_per_minute)


@dataclass(frozen=True, slots=True)
class Bucket:
    units: int
    updated_us: int


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    bucket: Bucket  # the state to keep
    remaining: int  # whole tokens left after this request
    retry_after_us: int  # until a request would be admitted; 0 when this one was

    @property
    def retry_after_seconds(self) -> int:
        """For the ``Retry-After`` header: whole seconds, at least 1, never too early."""
        return max(1, _ceil_div(self.retry_after_us, MICROSECONDS))


def refill(bucket: Bucket | None, limit: Limit, now_us: int) -> Bucket:
    """The bucket at ``now_us``. A clock that goes back mints nothing; a missing bucket is full."""
    if bucket is None:
        return Bucket(limit.capacity, now_us)
    if now_us <= bucket.updated_us:
        return Bucket(min(bucket.units, limit.capacity), bucket.updated_us)
    gained = (now_us - bucket.updated_us) * limit.requests_per_minute
    return Bucket(min(limit.capacity, bucket.units + gained), now_us)


def take(bucket: Bucket | None, limit: Limit, now_us: int) -> Decision:
    """One request at ``now_us``: admitted if a whole token is there (and it is taken)."""
    current = refill(bucket, limit, now_us)
    if current.units >= UNITS_PER_TOKEN:
        after = Bucket(current.units - UNITS_PER_TOKEN, current.updated_us)
        return Decision(True, after, after.units // UNITS_PER_TOKEN, 0)
    wait = _ceil_div(UNITS_PER_TOKEN - current.units, limit.requests_per_minute)
    return Decision(False, current, 0, wait)
