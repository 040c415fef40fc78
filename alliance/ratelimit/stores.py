"""Where buckets live: in this process (embedded profile) or in Redis (shared by every API
process). Both compute with :mod:`alliance.ratelimit.bucket`'s arithmetic."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from alliance.ratelimit.bucket import (
    UNITS_PER_TOKEN,
    Bucket,
    Decision,
    Limit,
    monotonic_us,
    refill,
    take,
)


class BucketStore(Protocol):
    async def take(self, key: str, limit: Limit) -> Decision: ...

    async def aclose(self) -> None: ...


class InProcessBuckets:
    """Buckets in a dict. Past ``max_keys`` the full ones are forgotten (a full bucket is the
    same as none), then the longest-idle until half the room is free (those restart full),
    so the sweep runs once per many requests however many callers there are."""

    def __init__(self, *, clock: Callable[[], int] = monotonic_us, max_keys: int = 100_000) -> None:
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[Bucket, Limit]] = {}

    def __len__(self) -> int:
        return len(self._buckets)

    async def take(self, key: str, limit: Limit) -> Decision:
        now = self.clock()
        previous = self._buckets.pop(key, None)
        decision = take(previous[0] if previous else None, limit, now)
        # Re-inserted last: the dict stays ordered from longest-idle to most recent.
        self._buckets[key] = (decision.bucket, limit)
        if len(self._buckets) > self.max_keys:
            self._forget(now)
        return decision

    def _forget(self, now: int) -> None:
        self._buckets = {
            key: (bucket, limit)
            for key, (bucket, limit) in self._buckets.items()
            if refill(bucket, limit, now).units < limit.capacity
        }
        excess = len(self._buckets) - self.max_keys // 2
        if excess > 0:
            for key in list(self._buckets)[:excess]:
                del self._buckets[key]

    async def aclose(self) -> None:
        self._buckets.clear()


# The same arithmetic as bucket.take, in Lua so one Redis call reads, decides and writes
# atomically. Lua numbers are doubles: integers are exact below 2^53 (now in microseconds
# is about 2^51), and a sum that rounds above 2^53 is far above any capacity, so min() with
# the capacity is exact too. Large integers go back to Redis as strings ('%.0f'), because
# Redis truncates Lua numbers returned to it and tostring() would print 1e+15.
TAKE_SCRIPT = """
local unit = 60000000
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2]) * unit
local now
if ARGV[3] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[3])
end
local state = redis.call('HMGET', KEYS[1], 'units', 'updated')
local units, updated
if state[1] and state[2] then
  units = tonumber(state[1])
  updated = tonumber(state[2])
  if now > updated then
    units = math.min(capacity, units + (now - updated) * rate)
    updated = now
  else
    units = math.min(capacity, units)
  end
else
  units = capacity
  updated = now
end
local allowed, wait = 0, 0
if units >= unit then
  allowed = 1
  units = units - unit
else
  wait = math.ceil((unit - units) / rate)
end
redis.call('HSET', KEYS[1], 'units', string.format('%.0f', units), 'updated', string.format('%.0f', updated))
redis.call('PEXPIRE', KEYS[1], math.floor(capacity / rate / 1000) + 2000)
return {allowed, string.format('%.0f', units), string.format('%.0f', updated), wait}
"""


class RedisBuckets:
    """Buckets in Redis hashes, updated by one atomic script; the clock is Redis's own
    (``TIME``), so API processes on different machines agree. Idle keys expire once full.

    ``clock`` replaces Redis's clock (tests drive the script with the same instants as the
    pure functions)."""

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "alliance:ratelimit:",
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.clock = clock
        self._take = client.register_script(TAKE_SCRIPT)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisBuckets:
        import redis.asyncio as redis

        # Short timeouts: a request must not hang on the limiter (it fails open instead).
        client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        return cls(client, **kwargs)

    async def take(self, key: str, limit: Limit) -> Decision:
        now = "" if self.clock is None else str(self.clock())
        allowed, units, updated, wait = await self._take(
            keys=[self.prefix + key], args=[limit.requests_per_minute, limit.burst, now]
        )
        bucket = Bucket(int(units), int(updated))
        remaining = bucket.units // UNITS_PER_TOKEN
        return Decision(bool(allowed), bucket, remaining if allowed else 0, int(wait))

    async def aclose(self) -> None:
        await self.client.aclose()
