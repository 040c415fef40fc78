"""When to try a failed delivery again: exponential backoff with full jitter (pure)."""

from __future__ import annotations

import random


def backoff_ceiling(attempt: int, *, base_seconds: float, cap_seconds: float) -> float:
    """The longest wait after the ``attempt``-th failure (1-based): base·2^(attempt-1), capped."""
    exponent = min(max(attempt - 1, 0), 60)  # 2**60 s is long past any cap
    return float(min(cap_seconds, base_seconds * 2**exponent))


def retry_delay(
    attempt: int,
    *,
    base_seconds: float,
    cap_seconds: float,
    rng: random.Random | None = None,
) -> float:
    """Full jitter: uniform in [0, ceiling], so receivers recovering from an outage are not
    hit by every sender at the same instant."""
    ceiling = backoff_ceiling(attempt, base_seconds=base_seconds, cap_seconds=cap_seconds)
    return (rng or random).uniform(0, ceiling)
