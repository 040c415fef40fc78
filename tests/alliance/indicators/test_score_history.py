"""The score history: worked examples, and properties against today's summary (hypothesis)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance.config import IndicatorSettings
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.models import (
    AssertionStatus,
    IndicatorAssertion,
    ReactionKind,
    TestBuyVerdict,
)
from alliance.indicators.repository import Tally, _tally_rows
from alliance.indicators.score_history import (
    AssertionFact,
    ReactionFact,
    assertion_fact,
    score_history,
    tally_at,
    weekly_instants,
)
from alliance.indicators.summary import summarise

NOW = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)
WEEK = timedelta(weeks=1)
SELLER = IndicatorType.SELLER_ACCOUNT
A_WEEK_HALF_LIFE = {SELLER.value: 7.0}
HALF_LIVES = IndicatorSettings().half_life_days
ORGS = [uuid.UUID(int=i + 1) for i in range(4)]


def asserted(at: datetime, **overrides: object) -> AssertionFact:
    values: dict[str, object] = {
        "organisation_id": ORGS[0],
        "confidence": 80,
        "created_at": at,
        "updated_at": at,
        "first_seen_at": at,
        "last_seen_at": at,
        "live": True,
        **overrides,
    }
    return AssertionFact(**values)  # type: ignore[arg-type]


def scores(assertions: list[AssertionFact], reactions: list[ReactionFact]) -> list[float | None]:
    instants = weekly_instants(NOW, 6)
    return [
        p.score
        for p in score_history(
            SELLER, assertions, reactions, instants, half_life_days=A_WEEK_HALF_LIFE
        )
    ]


def test_instants_are_weekly_and_end_now() -> None:
    instants = weekly_instants(NOW, 3)
    assert instants == [NOW - 3 * WEEK, NOW - 2 * WEEK, NOW - WEEK, NOW]


def test_the_score_halves_each_half_life_and_is_none_before_the_first_assertion() -> None:
    assert scores([asserted(NOW - 4 * WEEK)], []) == [None, None, 80.0, 40.0, 20.0, 10.0, 5.0]


def test_a_test_buy_lifts_the_score_from_when_it_was_recorded() -> None:
    buy = ReactionFact(
        ORGS[1], ReactionKind.CONFIRMED_BY_TEST_BUY, TestBuyVerdict.COUNTERFEIT, NOW - 2 * WEEK
    )
    # 0.8 lifted by a test buy: 0.8 + 0.2 * 0.6 * (1 - 1/2) = 0.86.
    assert scores([asserted(NOW - 4 * WEEK)], [buy]) == pytest.approx(
        [None, None, 80.0, 40.0, 86 / 4, 86 / 8, 86 / 16], abs=0.01
    )


def test_a_revoked_assertion_stops_counting_when_it_was_revoked() -> None:
    ended = NOW - 2 * WEEK + timedelta(days=1)
    revoked = asserted(NOW - 4 * WEEK, updated_at=ended, live=False, ended_at=ended)
    assert scores([revoked], []) == [None, None, 80.0, 40.0, 20.0, 0.0, 0.0]


def test_before_a_later_sighting_the_first_one_stands_in() -> None:
    resubmitted = NOW - WEEK + timedelta(days=1)
    again = asserted(NOW - 4 * WEEK, updated_at=resubmitted, last_seen_at=resubmitted)
    history = scores([again], [])
    assert history[:5] == [None, None, 80.0, 40.0, 20.0]
    assert history[5] == 10.0  # the resubmission came after this instant
    assert history[6] == pytest.approx(80 * 0.5 ** (6 / 7), abs=0.01)


def test_a_second_organisation_corroborates_from_when_it_asserted() -> None:
    first = asserted(NOW - 2 * WEEK)
    second = asserted(NOW - WEEK, organisation_id=ORGS[1], confidence=40)
    # At NOW - WEEK: max confidence 0.8, one corroboration: 0.8 + 0.2 * 0.3 * 0.5 = 0.83,
    # last seen then (the second's sighting), so no decay.
    assert scores([first, second], []) == pytest.approx(
        [None, None, None, None, 80.0, 83.0, 41.5], abs=0.01
    )


# --- properties ------------------------------------------------------------------------------

hours = st.integers(0, 24 * 120).map(lambda h: timedelta(hours=h))


@st.composite
def assertion_models(draw: st.DrawFn) -> IndicatorAssertion:
    created = NOW - draw(hours)
    updated = min(created + draw(hours), NOW)
    first = created - draw(hours) if draw(st.booleans()) else created
    last = first + draw(hours) if draw(st.booleans()) else min(first + draw(hours), updated)
    status = draw(st.sampled_from(list(AssertionStatus)))
    ended = created + (updated - created) * draw(st.floats(0, 1))
    return IndicatorAssertion(
        id=uuid.uuid4(),
        owner_org_id=draw(st.sampled_from(ORGS[:3])),
        confidence=draw(st.integers(0, 100)),
        status=status,
        created_at=created,
        updated_at=updated,
        first_seen_at=first,
        last_seen_at=last,
        revoked_at=ended if status == AssertionStatus.REVOKED else None,
        valid_until=ended if status == AssertionStatus.EXPIRED else draw(st.none()),
    )


reaction_facts = st.builds(
    ReactionFact,
    organisation_id=st.sampled_from(ORGS),
    kind=st.sampled_from(list(ReactionKind)),
    verdict=st.sampled_from([None, *TestBuyVerdict]),
    created_at=hours.map(lambda h: NOW - h),
)
types = st.sampled_from(list(IndicatorType))


def tally_as_stored(reactions: list[ReactionFact]) -> Tally:
    """What the indicator's tally query counts: distinct organisations per kind and verdict,
    through the repository's own mapping of those rows."""
    orgs: dict[tuple[ReactionKind, TestBuyVerdict | None], set[uuid.UUID]] = defaultdict(set)
    for r in reactions:
        orgs[(r.kind, r.verdict)].add(r.organisation_id)
    rows = [("x", kind, verdict, len(who)) for (kind, verdict), who in orgs.items()]
    return _tally_rows(rows).get("x", Tally())


@given(st.lists(reaction_facts, max_size=12))
def test_the_tally_counts_as_the_stored_tally_does(reactions: list[ReactionFact]) -> None:
    assert tally_at(reactions, NOW) == tally_as_stored(reactions)


@given(types, st.lists(assertion_models(), min_size=1, max_size=4), st.lists(reaction_facts))
def test_the_last_point_is_todays_score(
    type: IndicatorType, models: list[IndicatorAssertion], reactions: list[ReactionFact]
) -> None:
    today = summarise(type, models, tally_as_stored(reactions), now=NOW, half_life_days=HALF_LIVES)
    assert today is not None
    history = score_history(
        type,
        [assertion_fact(a) for a in models],
        reactions,
        weekly_instants(NOW, 12),
        half_life_days=HALF_LIVES,
    )
    assert history[-1].at == NOW
    assert history[-1].score == today.score


@given(types, st.lists(assertion_models(), min_size=1, max_size=4), st.lists(reaction_facts))
def test_a_point_knows_nothing_recorded_after_it(
    type: IndicatorType, models: list[IndicatorAssertion], reactions: list[ReactionFact]
) -> None:
    facts = [assertion_fact(a) for a in models]
    instants = weekly_instants(NOW, 12)
    full = score_history(type, facts, reactions, instants, half_life_days=HALF_LIVES)
    for i, point in enumerate(full):
        known = [r for r in reactions if r.created_at <= point.at]
        alone = score_history(type, facts, known, instants[: i + 1], half_life_days=HALF_LIVES)
        assert alone[-1] == point
        assert (point.score is None) == all(a.created_at > point.at for a in facts)


@given(
    types,
    st.lists(assertion_models(), min_size=1, max_size=4),
    st.lists(reaction_facts),
    hours,
)
def test_a_dispute_never_raises_any_point(
    type: IndicatorType,
    models: list[IndicatorAssertion],
    reactions: list[ReactionFact],
    ago: timedelta,
) -> None:
    facts = [assertion_fact(a) for a in models]
    instants = weekly_instants(NOW, 12)
    before = score_history(type, facts, reactions, instants, half_life_days=HALF_LIVES)
    dispute = ReactionFact(uuid.uuid4(), ReactionKind.DISPUTED, None, NOW - ago)
    after = score_history(type, facts, [*reactions, dispute], instants, half_life_days=HALF_LIVES)
    for was, now in zip(before, after, strict=True):
        assert (was.score is None) == (now.score is None)
        if was.score is not None and now.score is not None:
            assert now.score <= was.score


def test_facts_of_a_revoked_assertion_end_when_it_was_revoked() -> None:
    created, revoked = NOW - 3 * WEEK, NOW - WEEK
    model = IndicatorAssertion(
        owner_org_id=ORGS[0],
        confidence=50,
        status=AssertionStatus.REVOKED,
        created_at=created,
        updated_at=revoked + timedelta(seconds=1),
        first_seen_at=created,
        last_seen_at=created,
        revoked_at=revoked,
        valid_until=None,
    )
    fact = assertion_fact(model)
    assert not fact.live
    assert fact.ended_at == revoked
