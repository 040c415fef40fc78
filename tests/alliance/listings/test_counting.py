"""Counting listing checks: what a check counts toward (pure), the upsert that adds counts
up (both databases), and a real server whose counters, after it shut down, equal what its
answers said (NDJSON and GraphQL)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import Uuid, bindparam, text

from alliance import migrate
from alliance.auth.tokens import TokenGrant, issue_access_token
from alliance.cases import statistics
from alliance.config import load_settings
from alliance.db import make_engine, make_sessionmaker, unit_of_work
from alliance.demo import seed
from alliance.indicators import service as indicators
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.normalise import normalise
from alliance.listings.counting import ListingCounts, deciding_groups
from alliance.listings.demo import catalogue_text
from alliance.listings.listing import parse_listing
from alliance.listings.matcher import IndicatorEntry, Matcher, RuleEntry, Verdict
from alliance.listings.models import ALL_GROUPS, NO_ORGANISATION
from alliance.orgs import repository as orgs_repo
from alliance.orgs.models import MembershipRole
from alliance.rules.definition import parse_definition
from alliance.sharing import TLP, Distribution
from alliance.sharing.policy import Viewer, Visibility
from alliance.taxonomy.tree import CategoryTree, packaged_taxonomy_lines, parse_taxonomy
from tests.conftest import BACKENDS, RecordingSender, create_fresh_database
from tests.test_serve import free_port

DAY = date(2026, 3, 14)
MOTOR_VEHICLE_PARTS = 899
GROUP_A, GROUP_B, GROUP_C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
BRAND, PLATFORM = uuid.uuid4(), uuid.uuid4()
CHECKER = Viewer.member(PLATFORM, [(GROUP_C, MembershipRole.MEMBER)])
AIRBAG = parse_definition(
    {
        "name": "Airbag components",
        "decision": "PROHIBIT",
        "rationale": "SAFETY",
        "category_ids": [MOTOR_VEHICLE_PARTS],
        "keywords": {"any_of": ["airbag"]},
    }
)


def _seen_by_all(group: uuid.UUID | None) -> Visibility:
    return Visibility(BRAND, group, Distribution.ALLIANCE, TLP.GREEN)


def _indicator(type_: IndicatorType, raw: str, group: uuid.UUID | None, score: float):  # type: ignore[no-untyped-def]
    canonical = normalise(type_, raw)
    return IndicatorEntry(
        uuid.uuid4(),
        uuid.uuid4(),
        type_,
        canonical.value,
        _seen_by_all(group),
        score,
        canonical.match_keys,
    )


@pytest.fixture(scope="module")
def tree() -> CategoryTree:
    return CategoryTree.from_categories(parse_taxonomy(packaged_taxonomy_lines()))


@pytest.fixture
def matcher(tree: CategoryTree) -> Matcher:
    m = Matcher()
    m.set_tree(tree)
    m.put_rule(RuleEntry.of(uuid.uuid4(), 1, AIRBAG, _seen_by_all(GROUP_A)))
    m.put_indicator(_indicator(IndicatorType.PHONE, "+8613800138000", GROUP_B, 90.0))
    # Two weak indicators of different groups: each sends to review, together they block.
    m.put_indicator(_indicator(IndicatorType.DOMAIN, "weak-one.shop", GROUP_A, 60.0))
    m.put_indicator(_indicator(IndicatorType.DOMAIN, "weak-two.shop", None, 60.0))
    return m


def _listing(**fields: object):  # type: ignore[no-untyped-def]
    return parse_listing({"platform": "ebay", **fields})


def test_a_block_counts_toward_the_groups_that_decided_it(matcher: Matcher) -> None:
    both = matcher.check(
        CHECKER,
        _listing(title="airbag module", categoryId=MOTOR_VEHICLE_PARTS, phone="+8613800138000"),
    )
    assert both.verdict == Verdict.BLOCK
    assert deciding_groups(matcher, both) == {GROUP_A, GROUP_B}
    phone_only = matcher.check(CHECKER, _listing(title="brake pads", phone="+8613800138000"))
    assert deciding_groups(matcher, phone_only) == {GROUP_B}
    together = matcher.check(
        CHECKER,
        _listing(
            title="brake pads",
            shopUrl="https://weak-one.shop/a",
            listingUrl="https://weak-two.shop/b",
        ),
    )
    assert together.verdict == Verdict.BLOCK
    # No match blocks on its own: every indicator that added to the score decides.
    assert deciding_groups(matcher, together) == {GROUP_A}


def test_counts_by_day_organisation_and_group(matcher: Matcher) -> None:
    counts = ListingCounts(today=lambda: DAY)
    listings = [
        _listing(title="airbag module", categoryId=MOTOR_VEHICLE_PARTS),  # BLOCK by A
        _listing(title="brake pads", phone="+8613800138000"),  # BLOCK by B
        _listing(title="brake pads", shopUrl="https://weak-one.shop/x"),  # REVIEW by A
        _listing(title="brake pads"),  # ALLOW
    ]
    counts.record_all(matcher, CHECKER, [matcher.check(CHECKER, item) for item in listings])
    operator = Viewer.member(uuid.uuid4())
    counts.record(matcher, operator, matcher.check(operator, listings[0]))
    assert counts.pending() == {
        (DAY, PLATFORM, ALL_GROUPS): (4, 2, 1),
        (DAY, PLATFORM, GROUP_C): (4, 0, 0),  # the checker's own seat: checked only
        (DAY, PLATFORM, GROUP_A): (0, 1, 1),
        (DAY, PLATFORM, GROUP_B): (0, 1, 0),
        (DAY, operator.organisation_id, ALL_GROUPS): (1, 1, 0),
        (DAY, operator.organisation_id, GROUP_A): (0, 1, 0),
    }
    taken = counts.take()
    assert counts.pending() == {}
    counts.put_back(taken)
    counts.put_back(taken)
    assert counts.pending()[(DAY, PLATFORM, ALL_GROUPS)] == (8, 4, 2)


async def _rows(sessions: Any) -> dict[tuple[Any, ...], tuple[int, int, int]]:
    async with sessions() as session:
        found = await session.execute(
            text(
                "SELECT day, organisation_id, working_group_id, checked, blocked, review "
                "FROM listing_check_counts"
            )
        )
        rows = {}
        for day, org, group, *numbers in found.all():
            day = day if isinstance(day, date) else date.fromisoformat(str(day))
            rows[(day, uuid.UUID(str(org)), uuid.UUID(str(group)))] = tuple(int(n) for n in numbers)
        return rows


async def test_flushes_add_up_in_the_table(sessions: Any, matcher: Matcher) -> None:
    counts = ListingCounts(today=lambda: DAY)
    blocked = _listing(title="airbag module", categoryId=MOTOR_VEHICLE_PARTS)
    allowed = _listing(title="brake pads")
    for _ in range(3):
        counts.record(matcher, CHECKER, matcher.check(CHECKER, blocked))
    assert await counts.flush(sessions) == 3  # the total, the seat's row, group A's row
    assert await counts.flush(sessions) == 0
    counts.record(matcher, CHECKER, matcher.check(CHECKER, allowed))
    counts.record(matcher, CHECKER, matcher.check(CHECKER, blocked))
    await counts.flush(sessions)
    assert await _rows(sessions) == {
        (DAY, PLATFORM, ALL_GROUPS): (5, 4, 0),
        (DAY, PLATFORM, GROUP_C): (5, 0, 0),
        (DAY, PLATFORM, GROUP_A): (0, 4, 0),
    }


async def test_a_failed_flush_keeps_its_counts(tmp_path: Path, matcher: Matcher) -> None:
    unmigrated = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    counts = ListingCounts(today=lambda: DAY)
    counts.record(matcher, CHECKER, matcher.check(CHECKER, _listing(title="brake pads")))
    before = counts.pending()
    try:
        with pytest.raises(Exception, match="listing_check_counts"):
            await counts.flush(make_sessionmaker(unmigrated))
    finally:
        await unmigrated.dispose()
    assert (
        counts.pending()
        == before
        == {
            (DAY, PLATFORM, ALL_GROUPS): (1, 0, 0),
            (DAY, PLATFORM, GROUP_C): (1, 0, 0),
        }
    )


# --- a real server ----------------------------------------------------------------------------

CHECK_MANY = """
query ($listings: [ListingInput!]!) { checkListings(listings: $listings) { verdict } }
"""


@pytest.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    url, drop = await create_fresh_database(request.param, tmp_path)
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    async with unit_of_work(sessions) as session:
        await seed(session, with_indicators=True)
    yield url, sessions
    await engine.dispose()
    if drop is not None:
        await drop()


async def _groups_of(sessions: Any, ids: set[str]) -> dict[str, uuid.UUID]:
    """This test's own reading of which working group each matched rule or assertion is in."""
    wanted = [uuid.UUID(i) for i in ids]
    if not wanted:
        return {}
    out: dict[str, uuid.UUID] = {}
    async with sessions() as session:
        for table in ("rules", "indicator_assertions"):
            stmt = text(
                f"SELECT id, working_group_id FROM {table} WHERE id IN :ids "
                "AND working_group_id IS NOT NULL"
            ).bindparams(bindparam("ids", wanted, type_=Uuid(), expanding=True))
            for id_, group in (await session.execute(stmt)).all():
                out[str(uuid.UUID(str(id_)))] = uuid.UUID(str(group))
    return out


def _blocking_groups(answer: dict[str, Any], group_of: dict[str, uuid.UUID]) -> set[uuid.UUID]:
    """The README's rule, restated: the groups of the matches whose outcome is the BLOCK
    verdict, or of every indicator match when only their scores together block."""
    if answer["verdict"] != "BLOCK":
        return set()
    live = [m for m in answer["matches"] if not m["overridden"] and m["kind"] != "ALLOWLIST"]
    deciding = [m for m in live if m["outcome"] == "BLOCK"] or [
        m for m in live if m["kind"] == "INDICATOR"
    ]
    return {group_of[m["id"]] for m in deciding if m["id"] in group_of}


async def test_a_servers_counts_equal_the_listings_it_checked_and_blocked(
    database: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alliance.app import create_app

    url, sessions = database
    monkeypatch.setenv("ALLIANCE_DATABASE_URL", url)
    async with sessions() as session:
        shopmart = await orgs_repo.organisation_by_slug(session, "shopmart")
        assert shopmart is not None
        seats = {
            m.working_group_id
            for m in await orgs_repo.memberships_of_organisation(session, shopmart.id)
        }
    lines = [line for line in catalogue_text().splitlines() if line.strip()]
    port = free_port()
    app = create_app(load_settings(), job_sender=RecordingSender())
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    answers: list[dict[str, Any]] = []
    graphql_verdicts: list[str] = []
    try:
        while not server.started:  # noqa: ASYNC110  (uvicorn offers no event to wait on)
            await asyncio.sleep(0.05)
        token, _ = issue_access_token(
            app.state.keys,
            TokenGrant(
                subject="test:shopmart",
                client_id="tests",
                organisation_id=shopmart.id,
                organisation_slug=shopmart.slug,
                scopes=("listings:check",),
            ),
            issuer=app.state.settings.base_url,
            audience=app.state.settings.token_audience,
            ttl_seconds=600,
        )
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(2):
                body = "\n".join([*lines, "not json"]) + "\n"
                response = await client.post(
                    "/v1/listings/check",
                    content=body.encode(),
                    headers={**auth, "Content-Type": "application/x-ndjson"},
                )
                assert response.status_code == 200
                answers += [json.loads(x) for x in response.text.splitlines()]
            result = await client.post(
                "/graphql",
                json={"query": CHECK_MANY, "variables": {"listings": [json.loads(lines[0])] * 3}},
                headers=auth,
            )
            graphql_verdicts = [r["verdict"] for r in result.json()["data"]["checkListings"]]
    finally:
        server.should_exit = True
        await serving  # the lifespan's shutdown flushes what is left

    refused = [a for a in answers if "error" in a]
    checked = [a for a in answers if "error" not in a]
    assert len(refused) == 2  # the bad lines are answered, and not counted
    verdicts = [a["verdict"] for a in checked] + graphql_verdicts
    assert "BLOCK" in verdicts
    rows = await _rows(sessions)
    mine = {g: n for (_day, org, g), n in rows.items() if org == shopmart.id}
    assert mine[ALL_GROUPS] == (
        len(verdicts),
        verdicts.count("BLOCK"),
        verdicts.count("REVIEW"),
    )
    for seat in seats:
        assert mine[seat][0] == len(verdicts)
    # Blocked per group, worked out from the answers' own matches and the database.
    ids = {m["id"] for a in checked for m in a["matches"] if m["kind"] != "ALLOWLIST"}
    group_of = await _groups_of(sessions, ids)
    expected: dict[uuid.UUID, int] = {}
    # GraphQL checked lines[0] three times more.
    for answer in checked + [checked[0]] * 3:
        for group in _blocking_groups(answer, group_of):
            expected[group] = expected.get(group, 0) + 1
    assert expected
    assert app.state.listing_counts.pending() == {}  # emptied by the shutdown flush
    assert {g: n[1] for g, n in mine.items() if g != ALL_GROUPS and n[1]} == expected
    # And the statistics read them back: the organisation's own checks.
    async with sessions() as session:
        viewer = await indicators.viewer_of_organisation(session, shopmart.id)
        year = statistics.parse_period(str(next(iter(rows))[0].year))
        figures = await statistics.compute(session, viewer, year)
        everything = await statistics.compute(session, None, year)
    assert (figures.listings_checked, figures.listings_blocked) == (
        len(verdicts),
        verdicts.count("BLOCK"),
    )
    assert everything.listings_checked == len(verdicts)
    assert NO_ORGANISATION not in {org for (_d, org, _g) in rows}
