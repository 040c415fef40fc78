"""How an indicator's score moved: the score a viewer would have been shown at past instants,
over the assertions and reactions that viewer may see (pure, given what the policy let through).

Rows keep only their present state, so the past is rebuilt from their timestamps: an assertion
counts from its ``created_at``, a reaction from its ``created_at`` (when it was recorded, which
is when the stored score moved, not when the sighting or test buy happened). From an
assertion's last write on (``updated_at``) it is exactly as it is now, so the history's last
point is today's score. Before that write, its later sightings are not kept: where
``last_seen_at`` is still ahead of the instant, the first sighting stands in, which may
understate the score of those weeks but never overstates it. Confidence is the present one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from alliance.indicators import scoring
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.models import (
    AssertionStatus,
    IndicatorAssertion,
    ReactionKind,
    TestBuyVerdict,
)
from alliance.indicators.repository import Tally

_LIVE = (AssertionStatus.ACTIVE, AssertionStatus.DISPUTED)
_TALLY_FIELD = {
    ReactionKind.SEEN_TOO: "seen_too",
    ReactionKind.FALSE_POSITIVE: "disputes",
    ReactionKind.DISPUTED: "disputes",
    ReactionKind.OUTDATED: "outdated",
    ReactionKind.TAKEN_DOWN: "taken_down",
}


@dataclass(frozen=True, slots=True)
class AssertionFact:
    organisation_id: uuid.UUID
    confidence: int
    created_at: datetime
    updated_at: datetime
    first_seen_at: datetime
    last_seen_at: datetime
    live: bool  # live now (active or disputed)
    ended_at: datetime | None = None  # when a no-longer-live assertion was revoked or expired


@dataclass(frozen=True, slots=True)
class ReactionFact:
    organisation_id: uuid.UUID
    kind: ReactionKind
    verdict: TestBuyVerdict | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ScorePoint:
    at: datetime
    score: float | None  # None before the viewer could see any assertion


def assertion_fact(a: IndicatorAssertion) -> AssertionFact:
    live = a.status in _LIVE
    ended: datetime | None = None
    if not live:
        ended = a.revoked_at if a.status == AssertionStatus.REVOKED else a.valid_until
        ended = min(ended or a.updated_at, a.updated_at)
    return AssertionFact(
        organisation_id=a.owner_org_id,
        confidence=a.confidence,
        created_at=a.created_at,
        updated_at=a.updated_at,
        first_seen_at=a.first_seen_at,
        last_seen_at=a.last_seen_at,
        live=live,
        ended_at=ended,
    )


def tally_at(reactions: Iterable[ReactionFact], at: datetime) -> Tally:
    """The reactions recorded by ``at``, counted as the indicator's tally counts them: distinct
    organisations per kind and verdict; a genuine test buy is a dispute, an inconclusive one
    nothing."""
    seen: set[tuple[ReactionKind, TestBuyVerdict | None, uuid.UUID]] = set()
    counts = dict.fromkeys(("seen_too", "test_buys", "disputes", "outdated", "taken_down"), 0)
    for r in reactions:
        if r.created_at > at or (r.kind, r.verdict, r.organisation_id) in seen:
            continue
        seen.add((r.kind, r.verdict, r.organisation_id))
        if r.kind == ReactionKind.CONFIRMED_BY_TEST_BUY:
            if r.verdict == TestBuyVerdict.INCONCLUSIVE:
                continue
            counts["test_buys" if r.verdict == TestBuyVerdict.COUNTERFEIT else "disputes"] += 1
        else:
            counts[_TALLY_FIELD[r.kind]] += 1
    return Tally(**counts)


def _live_at(a: AssertionFact, at: datetime) -> bool:
    if at >= a.updated_at:
        return a.live
    return a.ended_at is None or a.ended_at > at


def _seen_at(a: AssertionFact, at: datetime) -> datetime:
    if at >= a.updated_at or a.last_seen_at <= at:
        return a.last_seen_at
    return min(a.first_seen_at, at)


def score_at(
    type: IndicatorType,
    assertions: Sequence[AssertionFact],
    reactions: Sequence[ReactionFact],
    *,
    at: datetime,
    half_life_days: dict[str, float],
) -> float | None:
    """The indicator's score as of ``at``, computed as its summary computes today's: over the
    live assertions (or all, to name a confidence, scoring 0 when none is live)."""
    existing = [a for a in assertions if a.created_at <= at]
    if not existing:
        return None
    live = [a for a in existing if _live_at(a, at)]
    if not live:
        return 0.0
    tally = tally_at(reactions, at)
    evidence = scoring.Evidence(
        type=type,
        confidence=max(a.confidence for a in live),
        last_seen_at=max(_seen_at(a, at) for a in live),
        asserting_organisations=len({a.organisation_id for a in live}),
        seen_too=tally.seen_too,
        test_buys=tally.test_buys,
        disputes=tally.disputes,
        outdated=tally.outdated,
    )
    return scoring.score(evidence, now=at, half_life_days=half_life_days)


def weekly_instants(now: datetime, weeks: int) -> list[datetime]:
    """``weeks`` + 1 instants a week apart, oldest first, the last one ``now``."""
    return [now - timedelta(weeks=weeks - i) for i in range(weeks + 1)]


def score_history(
    type: IndicatorType,
    assertions: Sequence[AssertionFact],
    reactions: Sequence[ReactionFact],
    instants: Sequence[datetime],
    *,
    half_life_days: dict[str, float],
) -> list[ScorePoint]:
    return [
        ScorePoint(
            at,
            score_at(type, assertions, reactions, at=at, half_life_days=half_life_days),
        )
        for at in instants
    ]
