"""How much to trust an indicator now: a pure function of what was said about it and when.

The score (0–100) starts from the highest confidence asserted, rises with corroboration
(more organisations asserting it or seeing it too) and with confirmed test buys, falls with
disputes and "outdated" reports, and decays with age at the half-life of its type (a seller
account in weeks, a payment account or an address in months). Each step is a factor that
moves the value towards 1 or towards 0, so it is monotone in every input: another test buy
never lowers it, another dispute never raises it, and time never raises it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alliance.indicators.indicator_type import IndicatorType

# How far corroboration and test buys can lift a value towards certainty.
CORROBORATION_WEIGHT = 0.3
TEST_BUY_WEIGHT = 0.6
# What each dispute or "outdated" report keeps of the value.
DISPUTE_FACTOR = 0.6
OUTDATED_FACTOR = 0.8
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a viewer may see about one indicator (or one assertion)."""

    type: IndicatorType
    confidence: int  # the highest confidence asserted, 0–100
    last_seen_at: datetime
    asserting_organisations: int = 1
    seen_too: int = 0  # organisations reporting they saw it too
    test_buys: int = 0  # test buys confirming a counterfeit
    disputes: int = 0  # organisations disputing it or calling it a false positive
    outdated: int = 0  # organisations reporting it outdated


def decay(age_days: float, half_life_days: float) -> float:
    """The share of the value left after ``age_days`` (1 for a future or present date)."""
    return float(0.5 ** (max(age_days, 0.0) / half_life_days))


def score(evidence: Evidence, *, now: datetime, half_life_days: dict[str, float]) -> float:
    value = min(max(evidence.confidence, 0), 100) / 100
    corroborations = max(evidence.asserting_organisations - 1, 0) + max(evidence.seen_too, 0)
    value += (1 - value) * CORROBORATION_WEIGHT * (1 - 0.5**corroborations)
    value += (1 - value) * TEST_BUY_WEIGHT * (1 - 0.5 ** max(evidence.test_buys, 0))
    value *= DISPUTE_FACTOR ** max(evidence.disputes, 0)
    value *= OUTDATED_FACTOR ** max(evidence.outdated, 0)
    age_days = (now - evidence.last_seen_at).total_seconds() / SECONDS_PER_DAY
    value *= decay(age_days, half_life_days[evidence.type.value])
    return round(100 * value, 2)


def disputed(*, disputes: int, test_buys: int, seen_too: int) -> bool:
    """An assertion is disputed while more organisations dispute it than corroborate it."""
    return disputes > 0 and disputes > test_buys + seen_too
