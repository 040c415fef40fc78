from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from alliance.cases import repository as repo
from alliance.cases import statistics as stats
from alliance.cases.models import CaseStatus as CaseStatusModel
from alliance.errors import InvalidInput
from schema.cases.dataloaders import case_loaders
from schema.cases.types import Case, CaseStatus, Money, TestBuy
from schema.errors import PublicError, bad_input
from schema.indicators.dataloaders import viewer
from schema.indicators.types import after_id
from schema.permissions import query_field, scopes
from schema.relay import Connection, build_connection, from_global_id, page_size

READ = ("cases:read", "cases:write")


async def resolve_case_node(info: Info, type_name: str, raw: uuid.UUID) -> Case | TestBuy | None:
    """``node(id:)`` for cases and test buys: visible ones only (a case to its participants)."""
    principal = info.context.principal
    if principal is None or not any(principal.has_scope(s) for s in READ):
        return None
    who = await viewer(info)
    if type_name == "Case":
        found = await case_loaders(info).case.load((who, raw))
        return Case.from_model(found) if found else None
    if type_name == "TestBuy":
        buy = await case_loaders(info).test_buy.load((who, raw))
        return TestBuy.from_model(buy) if buy else None
    return None


def _page(info: Info, first: int | None, after: str | None) -> tuple[int, uuid.UUID | None]:
    try:
        return page_size(first, info.context.settings.graphql.max_page_size), after_id(after)
    except InvalidInput as exc:
        raise bad_input(exc) from exc


def _group(working_group_id: strawberry.ID | None) -> uuid.UUID | None:
    if working_group_id is None:
        return None
    try:
        return from_global_id(working_group_id, "workingGroupId", "WorkingGroup")[1]
    except InvalidInput as exc:
        raise bad_input(exc) from exc


@strawberry.type
class TestBuyVerdictCount:
    __test__ = False
    verdict: str
    count: int


@strawberry.type(
    description=(
        "Aggregates for a period, counted over what you may see (cases: those you take part "
        "in), or alliance-wide for operators. Never a list of objects."
    )
)
class Statistics:
    period: str
    starts_at: str
    ends_at: str = strawberry.field(description="Exclusive.")
    alliance_wide: bool
    indicators_shared: int = strawberry.field(description="Assertions made in the period.")
    indicators_corroborated: int = strawberry.field(
        description="Assertions seen too or confirmed by a test buy in the period."
    )
    indicators_revoked: int
    takedowns: int = strawberry.field(description="TAKEN_DOWN reactions in the period.")
    test_buys: int
    test_buy_verdicts: list[TestBuyVerdictCount]
    cases_opened: int
    cases_referred: int
    cases_accepted: int
    cases_closed: int
    suspects: int = strawberry.field(description="Over cases closed in the period.")
    prosecutions: int
    sites_closed: int
    seized_value: list[Money] = strawberry.field(description="Per currency.")
    guides_published: int = strawberry.field(description="Guide versions published.")
    listings_checked: int | None = strawberry.field(
        description=(
            "Listings checked (checkListing(s) and the NDJSON endpoint): by your organisation; "
            "for a working group you hold a seat in, by all its members; allianceWide: all."
        )
    )
    listings_blocked: int | None = strawberry.field(
        description=(
            "Of those, listings given the BLOCK verdict; for a working group, those its "
            "rules or indicators blocked."
        )
    )

    @classmethod
    def from_result(cls, s: stats.Statistics) -> Statistics:
        return cls(
            period=s.period.label,
            starts_at=s.period.start.isoformat(),
            ends_at=s.period.end.isoformat(),
            alliance_wide=s.alliance_wide,
            indicators_shared=s.indicators_shared,
            indicators_corroborated=s.indicators_corroborated,
            indicators_revoked=s.indicators_revoked,
            takedowns=s.takedowns,
            test_buys=s.test_buys,
            test_buy_verdicts=[
                TestBuyVerdictCount(verdict=k, count=v) for k, v in s.test_buy_verdicts.items()
            ],
            cases_opened=s.cases_opened,
            cases_referred=s.cases_referred,
            cases_accepted=s.cases_accepted,
            cases_closed=s.cases_closed,
            suspects=s.suspects,
            prosecutions=s.prosecutions,
            sites_closed=s.sites_closed,
            seized_value=[Money(amount=a.decimal, currency=a.currency) for a in s.seized_value],
            guides_published=s.guides_published,
            listings_checked=s.listings_checked,
            listings_blocked=s.listings_blocked,
        )


@strawberry.type
class CasesQuery:
    @query_field(scopes(*READ), description="Test buys you may see, newest first.")
    async def test_buys(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        working_group_id: strawberry.ID | None = None,
    ) -> Connection[TestBuy]:
        session = info.context.session
        limit, after_key = _page(info, first, after)
        group = _group(working_group_id)
        who = await viewer(info)
        rows = await repo.page_visible_test_buys(
            session, who, after=after_key, limit=limit + 1, working_group_id=group
        )

        async def count() -> int:
            return await repo.count_visible_test_buys(session, who, group)

        page = rows[:limit]
        return build_connection(
            [TestBuy.from_model(b) for b in page],
            [str(b.id) for b in page],
            has_next_page=len(rows) > limit,
            has_previous_page=after_key is not None,
            count=count,
        )

    @query_field(scopes(*READ), description="One test buy, if you may see it.")
    async def test_buy(self, info: Info, id: strawberry.ID) -> TestBuy | None:
        try:
            raw = from_global_id(id, "id", "TestBuy")[1]
        except InvalidInput as exc:
            raise bad_input(exc) from exc
        found = await case_loaders(info).test_buy.load((await viewer(info), raw))
        return TestBuy.from_model(found) if found else None

    @query_field(scopes(*READ), description="Cases your organisation takes part in, newest first.")
    async def cases(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        status: CaseStatus | None = None,  # type: ignore[valid-type]
    ) -> Connection[Case]:
        session = info.context.session
        limit, after_key = _page(info, first, after)
        who = await viewer(info)
        wanted = CaseStatusModel(status.value) if status is not None else None
        rows = await repo.page_visible_cases(
            session, who, after=after_key, limit=limit + 1, status=wanted
        )

        async def count() -> int:
            return await repo.count_visible_cases(session, who, wanted)

        page = rows[:limit]
        return build_connection(
            [Case.from_model(c) for c in page],
            [str(c.id) for c in page],
            has_next_page=len(rows) > limit,
            has_previous_page=after_key is not None,
            count=count,
        )

    @query_field(scopes(*READ), description="One case, if your organisation takes part in it.")
    async def case(self, info: Info, id: strawberry.ID) -> Case | None:
        try:
            raw = from_global_id(id, "id", "Case")[1]
        except InvalidInput as exc:
            raise bad_input(exc) from exc
        found = await case_loaders(info).case.load((await viewer(info), raw))
        return Case.from_model(found) if found else None

    @query_field(
        scopes("cases:read", "cases:write", "indicators:read", "admin"),
        description=(
            "Transparency statistics for a period (2026, 2026-Q2, 2026-03), for one working "
            "group or all, over what you may see; allianceWide (the admin scope) counts "
            "everything, for the alliance's published report."
        ),
    )
    async def statistics(
        self,
        info: Info,
        period: str,
        working_group_id: strawberry.ID | None = None,
        alliance_wide: bool = False,
    ) -> Statistics:
        principal = info.context.principal
        if alliance_wide and (principal is None or not principal.has_scope("admin")):
            raise PublicError("allianceWide statistics require the admin scope", "FORBIDDEN")
        try:
            span = stats.parse_period(period)
        except InvalidInput as exc:
            raise bad_input(exc) from exc
        result = await stats.compute(
            info.context.session,
            None if alliance_wide else await viewer(info),
            span,
            working_group_id=_group(working_group_id),
        )
        return Statistics.from_result(result)
