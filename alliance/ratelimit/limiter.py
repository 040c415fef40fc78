"""Which limit a caller gets, and the decision for one request."""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from alliance.config import RateLimitSettings
from alliance.ratelimit.bucket import Decision, Limit
from alliance.ratelimit.stores import BucketStore, InProcessBuckets, RedisBuckets

logger = logging.getLogger("alliance.ratelimit")

# client_id -> requests per minute for that client, or None for the default. The OAuth
# clients' ``rate_limit_per_minute`` is read through this hook; sync or async.
LimitOverride = Callable[[str], Awaitable[int | None] | int | None]

# A changed per-client limit takes effect within this many seconds.
OVERRIDE_CACHE_SECONDS = 60.0
OVERRIDE_CACHE_SIZE = 10_000
MAX_BURST = 100_000


@dataclass(frozen=True, slots=True)
class Requester:
    """Whom a bucket belongs to: a client, or an IP address for anonymous callers."""

    key: str
    client_id: str | None

    @classmethod
    def client(cls, client_id: str) -> Requester:
        return cls(f"client:{client_id}", client_id)

    @classmethod
    def address(cls, ip: str) -> Requester:
        return cls(f"ip:{ip}", None)


class RateLimiter:
    def __init__(
        self,
        settings: RateLimitSettings,
        store: BucketStore,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = settings.enabled
        self.default = Limit(settings.requests_per_minute, settings.burst)
        self.store = store
        self.clock = clock
        self._override: LimitOverride | None = None
        self._overrides: dict[str, tuple[float, Limit]] = {}

    @classmethod
    def from_settings(cls, settings: RateLimitSettings) -> RateLimiter:
        store: BucketStore = (
            RedisBuckets.from_url(settings.url) if settings.url else InProcessBuckets()
        )
        return cls(settings, store)

    def set_override(self, override: LimitOverride | None) -> None:
        """Install the per-client hook (e.g. a lookup of the client's configured limit)."""
        self._override = override
        self._overrides.clear()

    def limit_of(self, requests_per_minute: int) -> Limit:
        """A client's own rate, with a burst scaled alike: the default bucket's burst lasts
        as long at the client's rate (600 a minute with bursts of 100 -> 6,000 with 1,000)."""
        scaled = -(-self.default.burst * requests_per_minute // self.default.requests_per_minute)
        return Limit(requests_per_minute, min(MAX_BURST, max(1, scaled)))

    async def limit_for(self, client_id: str | None) -> Limit:
        if client_id is None or self._override is None:
            return self.default
        now = self.clock()
        cached = self._overrides.get(client_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        limit = await self._ask_override(client_id)
        if len(self._overrides) >= OVERRIDE_CACHE_SIZE:
            self._overrides.clear()
        self._overrides[client_id] = (now + OVERRIDE_CACHE_SECONDS, limit)
        return limit

    async def _ask_override(self, client_id: str) -> Limit:
        assert self._override is not None
        try:
            answer = self._override(client_id)
            per_minute = await answer if inspect.isawaitable(answer) else answer
        except Exception:
            # The hook reads the database; when that fails the default limit still protects us.
            logger.exception(
                "rate-limit override failed; using the default", extra={"client_id": client_id}
            )
            return self.default
        if per_minute is None:
            return self.default
        if not isinstance(per_minute, int) or isinstance(per_minute, bool) or per_minute < 1:
            logger.error(
                "rate-limit override gave %r for %s; using the default", per_minute, client_id
            )
            return self.default
        return self.limit_of(per_minute)

    async def take(self, caller: Requester) -> tuple[Decision, Limit]:
        limit = await self.limit_for(caller.client_id)
        return await self.store.take(caller.key, limit), limit

    async def aclose(self) -> None:
        await self.store.aclose()


class DenialThrottle:
    """Audits the first refusal of a caller at once, then at most one entry per interval
    counting the refusals since: a flood of 429s must not become a flood of audit writes."""

    def __init__(
        self, interval_seconds: float = 60.0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval_seconds
        self.clock = clock
        self._seen: dict[str, tuple[float, int]] = {}

    def refused(self, key: str) -> int | None:
        """Note a refusal; the number of refusals to audit now, or None to stay quiet."""
        now = self.clock()
        last, count = self._seen.get(key, (None, 0))
        count += 1
        if last is None or now - last >= self.interval:
            self._seen[key] = (now, 0)
            if len(self._seen) > OVERRIDE_CACHE_SIZE:
                self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self.interval}
            return count
        self._seen[key] = (last, count)
        return None
