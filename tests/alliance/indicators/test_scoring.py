"""The score: bounded, and monotone in each kind of evidence (property-based)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from alliance.config import DEFAULT_HALF_LIFE_DAYS, IndicatorSettings
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.scoring import Evidence, disputed, score

NOW = datetime(2026, 12, 1, tzinfo=UTC)
HALF_LIVES = IndicatorSettings().half_life_days

evidence = st.builds(
    Evidence,
    type=st.sampled_from(list(IndicatorType)),
    confidence=st.integers(0, 100),
    last_seen_at=st.integers(0, 3 * 365 * 24).map(lambda h: NOW - timedelta(hours=h)),
    asserting_organisations=st.integers(1, 30),
    seen_too=st.integers(0, 30),
    test_buys=st.integers(0, 30),
    disputes=st.integers(0, 30),
    outdated=st.integers(0, 30),
)


def scored(e: Evidence) -> float:
    return score(e, now=NOW, half_life_days=HALF_LIVES)


@given(evidence)
def test_the_score_is_between_0_and_100(e: Evidence) -> None:
    assert 0 <= scored(e) <= 100


@given(evidence, st.integers(1, 10))
def test_more_test_buys_never_lower_it(e: Evidence, more: int) -> None:
    assert scored(replace(e, test_buys=e.test_buys + more)) >= scored(e)


@given(evidence, st.integers(1, 10))
def test_more_corroboration_never_lowers_it(e: Evidence, more: int) -> None:
    assert scored(replace(e, seen_too=e.seen_too + more)) >= scored(e)
    assert scored(replace(e, asserting_organisations=e.asserting_organisations + more)) >= scored(e)


@given(evidence, st.integers(1, 10))
def test_disputes_never_raise_it(e: Evidence, more: int) -> None:
    assert scored(replace(e, disputes=e.disputes + more)) <= scored(e)
    assert scored(replace(e, outdated=e.outdated + more)) <= scored(e)


@given(evidence, st.integers(1, 5000))
def test_age_never_raises_it(e: Evidence, hours: int) -> None:
    assert scored(replace(e, last_seen_at=e.last_seen_at - timedelta(hours=hours))) <= scored(e)


def test_a_seller_account_decays_in_weeks_a_payment_account_in_months() -> None:
    month_old = NOW - timedelta(days=30)
    seller = Evidence(IndicatorType.SELLER_ACCOUNT, 80, month_old)
    payment = Evidence(IndicatorType.PAYMENT_ACCOUNT, 80, month_old)

    assert scored(seller) < 40 < scored(payment) < 80
    assert scored(Evidence(IndicatorType.SELLER_ACCOUNT, 80, NOW)) == 80


def test_half_lives_are_settings(monkeypatch) -> None:
    monkeypatch.setenv("ALLIANCE_INDICATORS_HALF_LIFE_DAYS", '{"seller_account": 7}')

    settings = IndicatorSettings()

    assert settings.half_life_days["seller_account"] == 7
    assert settings.half_life_days["address"] == DEFAULT_HALF_LIFE_DAYS["address"]
    week_old = Evidence(IndicatorType.SELLER_ACCOUNT, 80, NOW - timedelta(days=7))
    assert score(week_old, now=NOW, half_life_days=settings.half_life_days) == 40


def test_unknown_types_in_half_lives_are_refused(monkeypatch) -> None:
    import pytest
    from pydantic import ValidationError

    monkeypatch.setenv("ALLIANCE_INDICATORS_HALF_LIFE_DAYS", '{"seller": 7}')
    with pytest.raises(ValidationError, match="unknown indicator types: seller"):
        IndicatorSettings()


def test_disputed_while_disputes_outnumber_corroboration() -> None:
    assert disputed(disputes=1, test_buys=0, seen_too=0)
    assert not disputed(disputes=1, test_buys=1, seen_too=0)
    assert not disputed(disputes=0, test_buys=0, seen_too=0)
    assert disputed(disputes=3, test_buys=1, seen_too=1)
