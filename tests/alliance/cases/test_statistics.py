"""Statistics match counts computed independently, with this test's own SQL, per viewer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Date, Uuid, bindparam, text

from alliance.cases import service, statistics
from alliance.db import UTCDateTime
from alliance.indicators import service as indicators
from alliance.indicators.models import ReactionKind
from alliance.indicators.service import ReactionData, Submission
from alliance.listings.counting import add_counts
from alliance.listings.models import ALL_GROUPS
from alliance.orgs import repository as orgs_repo

NOW = datetime.now(UTC).replace(microsecond=0)
PERIOD = statistics.parse_period(str(NOW.year))


async def _seed(session: Any, demo: dict[str, Any]) -> dict[str, Any]:
    orgs, groups = demo["orgs"], demo["groups"]
    viewers = {
        slug: await indicators.viewer_of_organisation(session, o.id) for slug, o in orgs.items()
    }
    auto, elec = groups["automotive-parts"].id, groups["consumer-electronics"].id
    acme = await indicators.submit(
        session,
        viewers["acme-motors"],
        [
            Submission(type="domain", value=f"acme-fake-{i}.shop", working_group_id=auto)
            for i in range(3)
        ]
        + [Submission(type="domain", value="acme-private.shop", distribution="ORGANISATION")],
    )
    await indicators.submit(
        session,
        viewers["volt-electronics"],
        [Submission(type="domain", value="volt-fake.shop", working_group_id=elec)],
    )
    await indicators.react(
        session,
        viewers["shopmart"],
        acme[0].assertion.id,
        ReactionData(kind="SEEN_TOO", platform="shopee"),
    )
    await indicators.react(
        session,
        viewers["acme-motors"],
        acme[1].assertion.id,
        ReactionData(
            kind=ReactionKind.TAKEN_DOWN, platform_action="listing removed", occurred_at=NOW
        ),
    )
    await indicators.revoke(
        session, viewers["acme-motors"], acme[2].assertion.id, reason="WITHDRAWN"
    )
    buys = []
    for verdict, days, who, group, dist in (
        ("COUNTERFEIT", 3, "acme-motors", auto, "WORKING_GROUP"),
        ("GENUINE", 4, "acme-motors", None, "ORGANISATION"),
        ("INCONCLUSIVE", 5, "volt-electronics", elec, "WORKING_GROUP"),
        ("COUNTERFEIT", 400, "acme-motors", auto, "WORKING_GROUP"),  # last year: outside
    ):
        buys.append(
            await service.record_test_buy(
                session,
                viewers[who],
                service.TestBuyData(
                    purchased_at=NOW - timedelta(days=days),
                    platform="shopee",
                    seller="s",
                    order_number=f"o-{verdict}-{days}",
                    verdict=verdict,
                    working_group_id=group,
                    distribution=dist,
                ),
                actor="test",
            )
        )
    police = orgs["city-police"].id
    closed = await service.open_case(
        session,
        viewers["acme-motors"],
        service.CaseData(
            reference="S-1",
            title="t",
            jurisdiction="CN",
            working_group_id=auto,
            test_buy_ids=[buys[0].id],
        ),
        actor="test",
    )
    await service.refer_case(session, viewers["acme-motors"], closed.id, police, actor="test")
    await service.accept_case(session, viewers["city-police"], closed.id, actor="test")
    await service.close_case(
        session,
        viewers["city-police"],
        closed.id,
        service.Outcome(
            suspects=4, prosecutions=2, sites_closed=1, seized_value=service.Money("10.50", "EUR")
        ),
        actor="test",
    )
    # Volt's own case, referred to the police too; acme takes no part in it.
    volt_case = await service.open_case(
        session,
        viewers["volt-electronics"],
        service.CaseData(reference="V-1", title="t", jurisdiction="KR"),
        actor="test",
    )
    await service.refer_case(
        session, viewers["volt-electronics"], volt_case.id, police, actor="test"
    )
    await service.accept_case(session, viewers["city-police"], volt_case.id, actor="test")
    await service.close_case(
        session,
        viewers["city-police"],
        volt_case.id,
        service.Outcome(suspects=1, seized_value=service.Money("99.00", "USD")),
        actor="test",
    )
    # Listing checks as the counters hold them: (organisation, group or ALL_GROUPS) ->
    # (checked, blocked, review), today; and one row of last year, outside the period.
    shopmart, acme_id, volt = (orgs[s].id for s in ("shopmart", "acme-motors", "volt-electronics"))
    lux = groups["luxury-goods"].id
    today, last_year = NOW.date(), NOW.date().replace(year=NOW.year - 1)
    checks = {
        (shopmart, ALL_GROUPS): [100, 10, 5],
        (shopmart, auto): [100, 4, 0],
        (shopmart, elec): [100, 3, 1],
        (shopmart, lux): [100, 0, 0],
        (acme_id, ALL_GROUPS): [20, 2, 0],
        (acme_id, auto): [20, 2, 0],
        (volt, ALL_GROUPS): [7, 1, 0],
        (volt, elec): [7, 1, 0],
    }
    await add_counts(session, {(today, org, g): n for (org, g), n in checks.items()})
    await add_counts(session, {(last_year, shopmart, ALL_GROUPS): [999, 99, 0]})
    await session.flush()
    return viewers


async def _listing_checks(
    session: Any, org: uuid.UUID | None, group: uuid.UUID | None
) -> tuple[int, int]:
    """This test's own reading of the counters: a group's rows for a group, the alliance-wide
    rows otherwise; an organisation sees its own, and a group's rows if it has a seat there."""
    member = (
        org is not None
        and group is not None
        and any(
            m.working_group_id == group
            for m in await orgs_repo.memberships_of_organisation(session, org)
        )
    )
    sql = (
        "SELECT COALESCE(SUM(checked), 0), COALESCE(SUM(blocked), 0) FROM listing_check_counts "
        "WHERE working_group_id = :group AND day >= :start AND day < :end"
    )
    if org is not None and not member:
        sql += " AND organisation_id = :org"
    stmt = text(sql).bindparams(
        bindparam("group", group or ALL_GROUPS, type_=Uuid()),
        bindparam("start", PERIOD.start.date(), type_=Date()),
        bindparam("end", PERIOD.end.date(), type_=Date()),
    )
    if ":org" in sql:
        stmt = stmt.bindparams(bindparam("org", org, type_=Uuid()))
    checked, blocked = (await session.execute(stmt)).one()
    return int(checked), int(blocked)


def _params(sql: str, org: uuid.UUID | None, groups: list[uuid.UUID]) -> Any:
    stmt = text(sql).bindparams(
        bindparam("start", PERIOD.start, type_=UTCDateTime()),
        bindparam("end", PERIOD.end, type_=UTCDateTime()),
    )
    if ":org" in sql:
        stmt = stmt.bindparams(bindparam("org", org, type_=Uuid()))
    if ":groups" in sql:
        stmt = stmt.bindparams(
            bindparam("groups", groups or [uuid.UUID(int=0)], type_=Uuid(), expanding=True)
        )
    return stmt


def _seen(alias: str, org: uuid.UUID | None) -> str:
    """This test's own statement of the rule (DESIGN.md, the sharing model)."""
    if org is None:
        return "1 = 1"
    return (
        f"({alias}.distribution IN ('ALLIANCE', 'FEDERATION') OR {alias}.owner_org_id = :org "
        f"OR ({alias}.distribution = 'WORKING_GROUP' AND {alias}.working_group_id IN :groups))"
    )


def _case_seen(org: uuid.UUID | None) -> str:
    if org is None:
        return "1 = 1"
    return "EXISTS (SELECT 1 FROM case_participants p WHERE p.case_id = c.id AND p.organisation_id = :org)"


async def _independent(session: Any, org: uuid.UUID | None) -> dict[str, Any]:
    groups = (
        []
        if org is None
        else [m.working_group_id for m in await orgs_repo.memberships_of_organisation(session, org)]
    )

    async def one(sql: str) -> Any:
        return (await session.execute(_params(sql, org, groups))).scalar()

    in_period = "{col} >= :start AND {col} < :end"
    a, r, t, c = _seen("a", org), _seen("r", org), _seen("t", org), _case_seen(org)
    closed = f"FROM cases c WHERE {c} AND " + in_period.format(col="c.closed_at")
    seized = (
        await session.execute(
            _params(
                f"SELECT outcome_seized_currency, SUM(outcome_seized_minor) {closed} "
                "AND outcome_seized_minor IS NOT NULL GROUP BY outcome_seized_currency ORDER BY 1",
                org,
                groups,
            )
        )
    ).all()
    verdicts = {}
    for verdict in ("COUNTERFEIT", "GENUINE", "INCONCLUSIVE"):
        verdicts[verdict] = await one(
            f"SELECT COUNT(*) FROM test_buys t WHERE {t} AND t.verdict = '{verdict}' AND "
            + in_period.format(col="t.purchased_at")
        )
    return {
        "indicators_shared": await one(
            f"SELECT COUNT(*) FROM indicator_assertions a WHERE {a} AND "
            + in_period.format(col="a.created_at")
        ),
        "indicators_revoked": await one(
            f"SELECT COUNT(*) FROM indicator_assertions a WHERE {a} AND "
            + in_period.format(col="a.revoked_at")
        ),
        "indicators_corroborated": await one(
            f"SELECT COUNT(DISTINCT r.assertion_id) FROM indicator_reactions r WHERE {r} AND "
            "r.kind IN ('SEEN_TOO', 'CONFIRMED_BY_TEST_BUY') AND "
            + in_period.format(col="r.created_at")
        ),
        "takedowns": await one(
            f"SELECT COUNT(*) FROM indicator_reactions r WHERE {r} AND r.kind = 'TAKEN_DOWN' AND "
            + in_period.format(col="r.created_at")
        ),
        "test_buy_verdicts": verdicts,
        "cases_opened": await one(
            f"SELECT COUNT(*) FROM cases c WHERE {c} AND " + in_period.format(col="c.opened_at")
        ),
        "cases_referred": await one(
            f"SELECT COUNT(*) FROM cases c WHERE {c} AND " + in_period.format(col="c.referred_at")
        ),
        "cases_accepted": await one(
            f"SELECT COUNT(*) FROM cases c WHERE {c} AND " + in_period.format(col="c.accepted_at")
        ),
        "cases_closed": await one(f"SELECT COUNT(*) {closed}"),
        "suspects": await one(f"SELECT COALESCE(SUM(outcome_suspects), 0) {closed}"),
        "prosecutions": await one(f"SELECT COALESCE(SUM(outcome_prosecutions), 0) {closed}"),
        "sites_closed": await one(f"SELECT COALESCE(SUM(outcome_sites_closed), 0) {closed}"),
        "seized_value": [(cur, int(total)) for cur, total in seized],
        "listings": await _listing_checks(session, org, None),
    }


def _of(result: statistics.Statistics) -> dict[str, Any]:
    return {
        "indicators_shared": result.indicators_shared,
        "indicators_revoked": result.indicators_revoked,
        "indicators_corroborated": result.indicators_corroborated,
        "takedowns": result.takedowns,
        "test_buy_verdicts": result.test_buy_verdicts,
        "cases_opened": result.cases_opened,
        "cases_referred": result.cases_referred,
        "cases_accepted": result.cases_accepted,
        "cases_closed": result.cases_closed,
        "suspects": result.suspects,
        "prosecutions": result.prosecutions,
        "sites_closed": result.sites_closed,
        "seized_value": [(a.currency, a.minor) for a in result.seized_value],
        "listings": (result.listings_checked, result.listings_blocked),
    }


@pytest.mark.parametrize(
    "who", ["acme-motors", "city-police", "volt-electronics", "luxe-house", None]
)
async def test_statistics_match_independent_counts(session, demo, who) -> None:
    viewers = await _seed(session, demo)
    org = None if who is None else demo["orgs"][who].id
    computed = await statistics.compute(session, None if who is None else viewers[who], PERIOD)
    assert _of(computed) == await _independent(session, org)


async def test_what_each_organisation_sees_in_figures(session, demo) -> None:
    viewers = await _seed(session, demo)
    acme = await statistics.compute(session, viewers["acme-motors"], PERIOD)
    police = await statistics.compute(session, viewers["city-police"], PERIOD)
    luxe = await statistics.compute(session, viewers["luxe-house"], PERIOD)
    everything = await statistics.compute(session, None, PERIOD)
    # Acme takes part in its case only; the police in both; Luxe in none.
    assert (acme.cases_closed, acme.suspects) == (1, 4)
    assert (police.cases_closed, police.suspects) == (2, 5)
    assert (luxe.cases_opened, luxe.cases_closed, luxe.suspects, luxe.seized_value) == (0, 0, 0, [])
    assert [(a.currency, a.decimal) for a in police.seized_value] == [
        ("EUR", "10.50"),
        ("USD", "99.00"),
    ]
    assert acme.test_buy_verdicts == {"COUNTERFEIT": 1, "GENUINE": 1, "INCONCLUSIVE": 0}
    assert luxe.test_buy_verdicts == {"COUNTERFEIT": 0, "GENUINE": 0, "INCONCLUSIVE": 0}
    assert everything.test_buys == 3
    assert everything.cases_closed == 2
    assert everything.indicators_shared == 5
    assert acme.indicators_shared == 4
    group = await statistics.compute(
        session, None, PERIOD, working_group_id=demo["groups"]["automotive-parts"].id
    )
    assert (group.cases_closed, group.indicators_shared, group.test_buys) == (1, 3, 1)
    assert (group.listings_checked, group.listings_blocked) == (120, 6)
    assert (acme.listings_checked, acme.listings_blocked) == (20, 2)
    assert (everything.listings_checked, everything.listings_blocked) == (127, 13)


@pytest.mark.parametrize("who", ["acme-motors", "shopmart", "luxe-house", "volt-electronics", None])
@pytest.mark.parametrize("group", ["automotive-parts", "consumer-electronics"])
async def test_listing_checks_per_group_match_independent_counts(session, demo, who, group) -> None:
    viewers = await _seed(session, demo)
    org = None if who is None else demo["orgs"][who].id
    group_id = demo["groups"][group].id
    computed = await statistics.compute(
        session, None if who is None else viewers[who], PERIOD, working_group_id=group_id
    )
    expected = await _listing_checks(session, org, group_id)
    assert (computed.listings_checked, computed.listings_blocked) == expected


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("2026", "2026-01-01", "2027-01-01"),
        ("2026-q4", "2026-10-01", "2027-01-01"),
        ("2026-12", "2026-12-01", "2027-01-01"),
        ("2026-02", "2026-02-01", "2026-03-01"),
    ],
)
def test_periods(value: str, start: str, end: str) -> None:
    period = statistics.parse_period(value)
    assert (period.start.date().isoformat(), period.end.date().isoformat()) == (start, end)


@pytest.mark.parametrize("value", ["", "26", "2026-13", "2026-Q5", "1999", "2026-1"])
def test_bad_periods_are_field_errors(value: str) -> None:
    from alliance.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        statistics.parse_period(value)
    assert caught.value.problems[0].path == ("period",)
