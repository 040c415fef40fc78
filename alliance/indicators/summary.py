"""What a viewer is told about an indicator as a whole, computed over the assertions and
reactions that viewer may see (and nothing else): pure, given what the policy let through."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from alliance.indicators import scoring
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.models import AssertionStatus, IndicatorAssertion
from alliance.indicators.repository import Tally

# An indicator's status is the liveliest of its visible assertions'.
_STATUS_ORDER = (
    AssertionStatus.ACTIVE,
    AssertionStatus.DISPUTED,
    AssertionStatus.EXPIRED,
    AssertionStatus.REVOKED,
)


@dataclass(frozen=True, slots=True)
class Summary:
    status: AssertionStatus
    organisations: int
    confidence: int
    first_seen_at: datetime
    last_seen_at: datetime
    score: float


def summarise(
    type: IndicatorType,
    assertions: Sequence[IndicatorAssertion],
    tally: Tally,
    *,
    now: datetime,
    half_life_days: dict[str, float],
) -> Summary | None:
    """``None`` when the viewer sees no assertion (then it does not see the indicator)."""
    if not assertions:
        return None
    status = next(s for s in _STATUS_ORDER if any(a.status == s for a in assertions))
    live = [a for a in assertions if a.status in (AssertionStatus.ACTIVE, AssertionStatus.DISPUTED)]
    counted = live or list(assertions)
    evidence = scoring.Evidence(
        type=type,
        confidence=max(a.confidence for a in counted),
        last_seen_at=max(a.last_seen_at for a in counted),
        asserting_organisations=len({a.owner_org_id for a in counted}),
        seen_too=tally.seen_too,
        test_buys=tally.test_buys,
        disputes=tally.disputes,
        outdated=tally.outdated,
    )
    score = scoring.score(evidence, now=now, half_life_days=half_life_days) if live else 0.0
    return Summary(
        status=status,
        organisations=len({a.owner_org_id for a in assertions}),
        confidence=evidence.confidence,
        first_seen_at=min(a.first_seen_at for a in assertions),
        last_seen_at=max(a.last_seen_at for a in assertions),
        score=score,
    )
