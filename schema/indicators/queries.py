from __future__ import annotations

import enum
import uuid
from datetime import datetime

import strawberry
from strawberry.types import Info

from alliance.errors import FieldProblem, InvalidInput
from alliance.indicators import repository as repo
from alliance.indicators import service
from alliance.indicators.indicator_type import IndicatorType as IndicatorTypeModel
from alliance.indicators.models import AssertionStatus as StatusModel
from alliance.sharing import TLP as TLPModel
from schema.indicators.dataloaders import loaders, viewer
from schema.indicators.inputs import READ, IndicatorPartInput, parts_of, prefixed
from schema.indicators.prefetch import prefetch_indicator_page
from schema.indicators.types import (
    AllowlistEntry,
    AssertionStatus,
    Indicator,
    IndicatorAssertion,
    IndicatorProposal,
    IndicatorType,
    SellerNetwork,
    after_id,
)
from schema.permissions import query_field, scopes
from schema.relay import Connection, build_connection, from_global_id, page_size
from schema.sharing import TLP

MAX_FILTER_VALUES = 50


@strawberry.enum(description="The order of an indicator list.")
class IndicatorOrder(enum.Enum):
    NEWEST_FIRST = "NEWEST_FIRST"
    OLDEST_FIRST = "OLDEST_FIRST"


@strawberry.input(description="Every part narrows the list; within a part any value matches.")
class IndicatorFilter:
    types: list[IndicatorType] | None = None  # type: ignore[valid-type]
    working_group_ids: list[strawberry.ID] | None = None
    status: list[AssertionStatus] | None = None  # type: ignore[valid-type]
    brands: list[str] | None = None
    tlp: list[TLP] | None = None  # type: ignore[valid-type]
    created_after: datetime | None = None
    min_score: float | None = strawberry.field(
        default=None, description="Some assertion you see has at least this score of its own."
    )


def _filter(value: IndicatorFilter | None) -> repo.IndicatorFilter:
    if value is None:
        return repo.IndicatorFilter()
    problems: list[FieldProblem] = []
    for name in ("types", "working_group_ids", "status", "brands", "tlp"):
        given = getattr(value, name)
        if given is not None and len(given) > MAX_FILTER_VALUES:
            camel = "workingGroupIds" if name == "working_group_ids" else name
            problems.append(
                FieldProblem(("filter", camel), "TOO_MANY", f"at most {MAX_FILTER_VALUES} values")
            )
    groups: list[uuid.UUID] = []
    for index, global_id in enumerate(value.working_group_ids or ()):
        try:
            groups.append(from_global_id(global_id, expected="WorkingGroup")[1])
        except InvalidInput as exc:
            problems += [
                FieldProblem(("filter", "workingGroupIds", str(index)), p.code, p.message)
                for p in exc.problems
            ]
    if value.created_after is not None and value.created_after.tzinfo is None:
        problems.append(
            FieldProblem(("filter", "createdAfter"), "NAIVE_DATETIME", "must carry a time zone")
        )
    if problems:
        raise InvalidInput(problems)
    return repo.IndicatorFilter(
        types=[IndicatorTypeModel(t) for t in value.types or ()],
        working_group_ids=groups,
        statuses=[StatusModel(s) for s in value.status or ()],
        brands=[b.strip().casefold() for b in value.brands or ()],
        tlps=[TLPModel(t) for t in value.tlp or ()],
        created_after=value.created_after,
        min_score=value.min_score,
    )


async def resolve_indicator_node(
    info: Info, type_name: str, raw: uuid.UUID
) -> Indicator | IndicatorAssertion | IndicatorProposal | AllowlistEntry | None:
    """``node(id:)`` for the indicator domain's types (visible ones only)."""
    who = await viewer(info)
    if type_name == "Indicator":
        found = await loaders(info).indicator.load((who, raw))
        return Indicator.from_model(found) if found else None
    if type_name == "IndicatorAssertion":
        assertion = await loaders(info).assertion.load((who, raw))
        return IndicatorAssertion.from_model(assertion) if assertion else None
    return None


@strawberry.type
class IndicatorsQuery:
    @query_field(
        scopes(*READ),
        description=(
            "Indicators you may see (through at least one assertion), newest first by default. "
            "Every filter applies to the assertions you see, inside the query, so pages are full."
        ),
    )
    async def indicators(
        self,
        info: Info,
        filter: IndicatorFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        order_by: IndicatorOrder = IndicatorOrder.NEWEST_FIRST,
    ) -> Connection[Indicator]:
        session = info.context.session
        limit = page_size(first, info.context.settings.graphql.max_page_size)
        after_key = after_id(after)
        criteria = _filter(filter)
        who = await viewer(info)
        page = await repo.page_visible_indicators(
            session,
            who,
            criteria,
            newest_first=order_by == IndicatorOrder.NEWEST_FIRST,
            after=after_key,
            limit=limit,
        )
        await prefetch_indicator_page(info, who, [i.id for i in page.items])

        async def count() -> int:
            return await repo.count_visible_indicators(session, who, criteria)

        return build_connection(
            [Indicator.from_model(i) for i in page.items],
            [str(i.id) for i in page.items],
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            count=count,
        )

    @query_field(scopes(*READ), description="One indicator by id, if you may see it.")
    async def indicator(self, info: Info, id: strawberry.ID) -> Indicator | None:
        raw = from_global_id(id, "id", "Indicator")[1]
        found = await loaders(info).indicator.load((await viewer(info), raw))
        return Indicator.from_model(found) if found else None

    @query_field(
        scopes(*READ),
        description="Normalise a value as the type says, then find its indicator if you may see it.",
    )
    async def lookup_indicator(
        self,
        info: Info,
        type: IndicatorType,  # type: ignore[valid-type]
        value: str,
        country: str | None = None,
        parts: list[IndicatorPartInput] | None = None,
    ) -> Indicator | None:
        try:
            found = await service.lookup(
                info.context.session,
                await viewer(info),
                type.value if isinstance(type, enum.Enum) else type,
                value,
                country=country,
                parts=parts_of(parts),
            )
        except InvalidInput as exc:
            raise prefixed(exc) from exc
        return Indicator.from_model(found) if found else None

    @query_field(
        scopes(*READ),
        description=(
            "The seller network around an indicator: indicators linked to it (submitted "
            "together, or sharing a phone, payment account, address, e-mail or image hash), "
            "through links whose both ends you may see; bounded in depth and size."
        ),
    )
    async def seller_network(self, info: Info, indicator_id: strawberry.ID) -> SellerNetwork | None:
        raw = from_global_id(indicator_id, "indicatorId", "Indicator")[1]
        network = await service.seller_network(
            info.context.session,
            await viewer(info),
            raw,
            settings=info.context.settings.indicators,
        )
        return SellerNetwork.from_network(network) if network else None

    @query_field(scopes(*READ), description="Brand allowlist entries you may see.")
    async def allowlist(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[AllowlistEntry]:
        session = info.context.session
        limit = page_size(first, info.context.settings.graphql.max_page_size)
        after_key = after_id(after)
        who = await viewer(info)
        page = await repo.page_visible_allowlist(session, who, after=after_key, limit=limit)

        async def count() -> int:
            return await repo.count_visible_allowlist(session, who)

        return build_connection(
            [AllowlistEntry.from_model(e) for e in page.items],
            [str(e.id) for e in page.items],
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            count=count,
        )
