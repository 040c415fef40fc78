"""Transparency statistics: aggregates only, counted with SQL over what the caller may see.

Every count runs over rows the sharing policy admits for the viewer (cases: the cases the
viewer takes part in), so a statistic never reveals an object the viewer could not list.
``viewer=None`` is the operator's alliance-wide report (``alliance report``, or a token with
the ``admin`` scope), counted over every row: aggregates, which the operator may publish.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, func, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.cases.models import Case, TestBuy
from alliance.cases.repository import visible_case_clause, visible_test_buy_clause
from alliance.errors import FieldProblem, InvalidInput
from alliance.guides.models import Guide, GuideVersion
from alliance.indicators.models import (
    IndicatorAssertion,
    IndicatorReaction,
    ReactionKind,
    TestBuyVerdict,
)
from alliance.listings.models import ALL_GROUPS, ListingCheckCount
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import Viewer, sql_predicate

_PERIOD = re.compile(r"^(\d{4})(?:-(?:Q([1-4])|(0[1-9]|1[0-2])))?$")
CORROBORATING = (ReactionKind.SEEN_TOO, ReactionKind.CONFIRMED_BY_TEST_BUY)


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    start: datetime  # inclusive
    end: datetime  # exclusive


def parse_period(value: str) -> Period:
    """``2026`` (a year), ``2026-Q2`` (a quarter) or ``2026-03`` (a month), in UTC."""
    match = _PERIOD.fullmatch((value or "").strip().upper())
    if not match:
        raise InvalidInput(
            [
                FieldProblem(
                    ("period",),
                    "INVALID_PERIOD",
                    "use a year (2026), a quarter (2026-Q2) or a month (2026-03)",
                )
            ]
        )
    year = int(match.group(1))
    if not 2000 <= year <= 2999:
        raise InvalidInput([FieldProblem(("period",), "OUT_OF_RANGE", "year out of range")])
    if match.group(2):
        first, months = (int(match.group(2)) - 1) * 3 + 1, 3
    elif match.group(3):
        first, months = int(match.group(3)), 1
    else:
        first, months = 1, 12
    start = datetime(year, first, 1, tzinfo=UTC)
    end_month = first + months
    end = datetime(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1, tzinfo=UTC)
    return Period(match.group(0), start, end)


def months_of(year: int) -> list[Period]:
    return [parse_period(f"{year}-{m:02d}") for m in range(1, 13)]


@dataclass(frozen=True, slots=True)
class Amount:
    currency: str
    minor: int

    @property
    def decimal(self) -> str:
        return f"{self.minor // 100}.{self.minor % 100:02d}"


@dataclass(frozen=True, slots=True)
class Statistics:
    period: Period
    working_group_id: uuid.UUID | None
    alliance_wide: bool
    indicators_shared: int
    indicators_corroborated: int
    indicators_revoked: int
    takedowns: int
    test_buys: int
    test_buy_verdicts: dict[str, int]
    cases_opened: int
    cases_referred: int
    cases_accepted: int
    cases_closed: int
    suspects: int
    prosecutions: int
    sites_closed: int
    seized_value: list[Amount] = field(default_factory=list)
    guides_published: int = 0
    # From the per-day counters of listing checks (alliance.listings.counting).
    listings_checked: int | None = None
    listings_blocked: int | None = None

    def as_row(self) -> dict[str, Any]:
        return {
            "period": self.period.label,
            "indicators_shared": self.indicators_shared,
            "indicators_corroborated": self.indicators_corroborated,
            "indicators_revoked": self.indicators_revoked,
            "takedowns": self.takedowns,
            "test_buys": self.test_buys,
            **{f"test_buys_{k.lower()}": v for k, v in self.test_buy_verdicts.items()},
            "cases_opened": self.cases_opened,
            "cases_referred": self.cases_referred,
            "cases_accepted": self.cases_accepted,
            "cases_closed": self.cases_closed,
            "suspects": self.suspects,
            "prosecutions": self.prosecutions,
            "sites_closed": self.sites_closed,
            "seized_value": " ".join(f"{a.decimal} {a.currency}" for a in self.seized_value),
            "guides_published": self.guides_published,
            "listings_checked": "" if self.listings_checked is None else self.listings_checked,
            "listings_blocked": "" if self.listings_blocked is None else self.listings_blocked,
        }


def _visible(viewer: Viewer | None, model: Any) -> ColumnElement[bool]:
    if viewer is None:
        return true()
    return sql_predicate(
        viewer, model.owner_org_id, model.working_group_id, model.distribution, model.tlp
    )


def _in(column: Any, period: Period) -> ColumnElement[bool]:
    return (column >= period.start) & (column < period.end)


async def _scalar(session: AsyncSession, stmt: Select[Any]) -> int:
    return int((await session.scalar(stmt)) or 0)


async def compute(
    session: AsyncSession,
    viewer: Viewer | None,
    period: Period,
    *,
    working_group_id: uuid.UUID | None = None,
) -> Statistics:
    def group(model: Any) -> ColumnElement[bool]:
        return true() if working_group_id is None else model.working_group_id == working_group_id

    assertions = (
        select(func.count())
        .select_from(IndicatorAssertion)
        .where(_visible(viewer, IndicatorAssertion), group(IndicatorAssertion))
    )
    shared = await _scalar(session, assertions.where(_in(IndicatorAssertion.created_at, period)))
    revoked = await _scalar(session, assertions.where(_in(IndicatorAssertion.revoked_at, period)))
    reacted = (
        _visible(viewer, IndicatorReaction),
        group(IndicatorReaction),
        _in(IndicatorReaction.created_at, period),
    )
    corroborated = await _scalar(
        session,
        select(func.count(func.distinct(IndicatorReaction.assertion_id))).where(
            *reacted, IndicatorReaction.kind.in_(CORROBORATING)
        ),
    )
    takedowns = await _scalar(
        session,
        select(func.count())
        .select_from(IndicatorReaction)
        .where(*reacted, IndicatorReaction.kind == ReactionKind.TAKEN_DOWN),
    )
    verdict_rows = (
        await session.execute(
            select(TestBuy.verdict, func.count())
            .where(
                true() if viewer is None else visible_test_buy_clause(viewer),
                group(TestBuy),
                _in(TestBuy.purchased_at, period),
            )
            .group_by(TestBuy.verdict)
        )
    ).all()
    verdicts = {v.value: 0 for v in TestBuyVerdict}
    for verdict, n in verdict_rows:
        verdicts[TestBuyVerdict(verdict).value] = int(n)

    cases = (
        select(func.count())
        .select_from(Case)
        .where(true() if viewer is None else visible_case_clause(viewer), group(Case))
    )
    opened = await _scalar(session, cases.where(_in(Case.opened_at, period)))
    referred = await _scalar(session, cases.where(_in(Case.referred_at, period)))
    accepted = await _scalar(session, cases.where(_in(Case.accepted_at, period)))
    closed_filter = (
        true() if viewer is None else visible_case_clause(viewer),
        group(Case),
        _in(Case.closed_at, period),
    )
    closed = await _scalar(session, select(func.count()).select_from(Case).where(*closed_filter))
    sums = (
        await session.execute(
            select(
                func.coalesce(func.sum(Case.outcome_suspects), 0),
                func.coalesce(func.sum(Case.outcome_prosecutions), 0),
                func.coalesce(func.sum(Case.outcome_sites_closed), 0),
            ).where(*closed_filter)
        )
    ).one()
    seized = (
        await session.execute(
            select(Case.outcome_seized_currency, func.sum(Case.outcome_seized_minor))
            .where(*closed_filter, Case.outcome_seized_minor.is_not(None))
            .group_by(Case.outcome_seized_currency)
            .order_by(Case.outcome_seized_currency)
        )
    ).all()
    guides = await _scalar(
        session,
        select(func.count())
        .select_from(GuideVersion)
        .join(Guide, Guide.id == GuideVersion.guide_id)
        .where(_visible(viewer, Guide), group(Guide), _in(GuideVersion.published_at, period)),
    )
    checked, blocked = await _listing_checks(session, viewer, period, working_group_id)
    return Statistics(
        period=period,
        working_group_id=working_group_id,
        alliance_wide=viewer is None,
        indicators_shared=shared,
        indicators_corroborated=corroborated,
        indicators_revoked=revoked,
        takedowns=takedowns,
        test_buys=sum(verdicts.values()),
        test_buy_verdicts=verdicts,
        cases_opened=opened,
        cases_referred=referred,
        cases_accepted=accepted,
        cases_closed=closed,
        suspects=int(sums[0]),
        prosecutions=int(sums[1]),
        sites_closed=int(sums[2]),
        seized_value=[Amount(str(c), int(m)) for c, m in seized if c is not None],
        guides_published=guides,
        listings_checked=checked,
        listings_blocked=blocked,
    )


async def _listing_checks(
    session: AsyncSession,
    viewer: Viewer | None,
    period: Period,
    working_group_id: uuid.UUID | None,
) -> tuple[int, int]:
    """Listings checked and blocked, from the per-day counters: a group's rows for a group,
    the alliance-wide rows (``ALL_GROUPS``) otherwise. A counter row reads, for the sharing
    policy, as a working-group object owned by the checking organisation: a member sees its
    own organisation's checks, and a group's figures from every organisation if it holds a
    seat in that group."""
    c = ListingCheckCount
    visible = (
        true()
        if viewer is None
        else sql_predicate(
            viewer,
            c.organisation_id,
            c.working_group_id,
            literal(Distribution.WORKING_GROUP.value, String()),
            literal(TLP.AMBER.value, String()),
        )
    )
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(c.checked), 0), func.coalesce(func.sum(c.blocked), 0)
            ).where(
                visible,
                c.working_group_id == (working_group_id or ALL_GROUPS),
                c.day >= period.start.date(),
                c.day < period.end.date(),
            )
        )
    ).one()
    return int(row[0]), int(row[1])
