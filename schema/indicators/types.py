from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from alliance.db import utcnow
from alliance.errors import FieldProblem, InvalidInput
from alliance.indicators import models
from alliance.indicators.indicator_type import IndicatorType as IndicatorTypeModel
from alliance.indicators.service import Network
from alliance.indicators.summary import Summary, summarise
from schema.errors import bad_input
from schema.indicators.dataloaders import Missing, loaders, ready, viewer, viewer_now
from schema.lean import lean
from schema.orgs.types import Organisation, WorkingGroup
from schema.relay import Connection, Node, build_connection, decode_cursor, page_size, to_global_id
from schema.sharing import TLP, Distribution

IndicatorType = strawberry.enum(IndicatorTypeModel, description="What an indicator's value is.")
Severity = strawberry.enum(models.Severity, description="How harmful what the indicator finds is.")
AssertionStatus = strawberry.enum(
    models.AssertionStatus,
    name="IndicatorStatus",
    description=(
        "ACTIVE; DISPUTED (more organisations dispute it than corroborate it); EXPIRED (past "
        "validUntil); REVOKED (withdrawn by its organisation, with a reason)."
    ),
)
RevocationReason = strawberry.enum(
    models.RevocationReason, description="Why an assertion was withdrawn."
)
ReactionKind = strawberry.enum(models.ReactionKind, description="What a reaction reports.")
TestBuyVerdict = strawberry.enum(models.TestBuyVerdict, description="What a test buy found.")
ProposalState = strawberry.enum(models.ProposalState, description="Where a proposal stands.")
AllowlistKind = strawberry.enum(
    models.AllowlistKind, description="What a brand registers on its allowlist."
)
LinkReason = strawberry.enum(models.LinkReason, description="Why two assertions are linked.")

R = TypeVar("R")


def later(awaitable: Awaitable[R]) -> R:
    """Hand graphql-core an awaitable from a synchronous resolver: it awaits whatever a
    resolver returns that is awaitable. Resolvers answer at once from what the request has
    loaded already (see ``schema.indicators.prefetch``) and fall back to the loaders."""
    return awaitable  # type: ignore[return-value]


def after_id(after: str | None) -> uuid.UUID | None:
    raw = decode_cursor(after)
    if raw is None:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise bad_input(
            InvalidInput([FieldProblem(("after",), "INVALID_CURSOR", "is not a valid cursor")])
        ) from exc


def window_args(info: Info, first: int | None, after: str | None) -> tuple[int, uuid.UUID | None]:
    try:
        return page_size(first, info.context.settings.graphql.max_page_size), after_id(after)
    except InvalidInput as exc:
        raise bad_input(exc) from exc


def _summarise(
    info: Info,
    indicator: Indicator,
    assertions: Sequence[models.IndicatorAssertion],
    tally: Any,
) -> Summary:
    summary = summarise(
        indicator.raw_type,
        assertions,
        tally,
        now=utcnow(),
        half_life_days=info.context.settings.indicators.half_life_days,
    )
    assert summary is not None, "a visible indicator has a visible assertion"
    return summary


async def _load_summary(info: Info, indicator: Indicator) -> Summary:
    who = await viewer(info)
    assertions = await loaders(info).assertions_of.load((who, indicator.raw_id))
    tally = await loaders(info).tally.load((who, indicator.raw_id))
    indicator.summary = _summarise(info, indicator, assertions, tally)
    return indicator.summary


def _aggregate(info: Info, indicator: Indicator, pick: Callable[[Summary], R]) -> R:
    """One aggregate of the indicator, computed once per indicator object: at once when its
    assertions and tally are loaded, else after loading them."""
    if indicator.summary is None:
        who = viewer_now(info)
        if not isinstance(who, Missing):
            key = (who, indicator.raw_id)
            assertions = ready(loaders(info).assertions_of, key)
            tally = ready(loaders(info).tally, key)
            if not isinstance(assertions, Missing) and not isinstance(tally, Missing):
                indicator.summary = _summarise(info, indicator, assertions, tally)
    if indicator.summary is not None:
        return pick(indicator.summary)

    async def load() -> R:
        return pick(await _load_summary(info, indicator))

    return later(load())


def assertion_window(
    every: list[models.IndicatorAssertion], limit: int, after_key: uuid.UUID | None
) -> tuple[list[models.IndicatorAssertion], bool]:
    """The page of an indicator's visible assertions (oldest first) and whether more follow."""
    rest = every if after_key is None else [a for a in every if a.id > after_key]
    return rest[:limit], len(rest) > limit


def _assertion_connection(
    every: list[models.IndicatorAssertion], limit: int, after_key: uuid.UUID | None
) -> Connection[IndicatorAssertion]:
    page, more = assertion_window(every, limit, after_key)
    return build_connection(
        [IndicatorAssertion.from_model(a) for a in page],
        [str(a.id) for a in page],
        has_next_page=more,
        has_previous_page=after_key is not None,
        count=len(every),
    )


def organisation_of(info: Info, organisation_id: uuid.UUID) -> Organisation:
    """The organisation by id: at once when this request has loaded it, else after loading."""
    loader = info.context.loaders.organisation
    found = ready(loader, organisation_id)
    if not isinstance(found, Missing):
        return Organisation.from_model(found)

    async def load() -> Organisation:
        return Organisation.from_model(await loader.load(organisation_id))

    return later(load())


@strawberry.type(
    description=(
        "A canonical indicator: one per (type, normalised value) in the instance. What it says "
        "comes from the assertions on it you may see; its aggregates count those only."
    )
)
class Indicator(Node):
    id: strawberry.ID
    type: IndicatorType  # type: ignore[valid-type]
    value: str = strawberry.field(description="The normalised value (what is matched exactly).")
    created_at: datetime
    raw_id: strawberry.Private[uuid.UUID]
    raw_type: strawberry.Private[IndicatorTypeModel]
    # What its aggregates say to this request's viewer, once computed.
    summary: strawberry.Private[Summary | None] = None

    @classmethod
    def from_model(cls, indicator: models.Indicator) -> Indicator:
        return cls(
            id=to_global_id("Indicator", indicator.id),
            type=indicator.type,
            value=indicator.value,
            created_at=indicator.created_at,
            raw_id=indicator.id,
            raw_type=indicator.type,
        )

    @strawberry.field(description="The liveliest status among the assertions you see.")
    @lean
    def status(self, info: Info) -> AssertionStatus:  # type: ignore[valid-type]
        return _aggregate(info, self, lambda s: s.status)

    @strawberry.field(
        description=(
            "0–100: confidence, corroboration, test buys, disputes and age (decaying at the "
            "half-life of the type) over the assertions and reactions you see."
        )
    )
    @lean
    def score(self, info: Info) -> float:
        return _aggregate(info, self, lambda s: s.score)

    @strawberry.field(description="The highest confidence among the live assertions you see.")
    @lean
    def confidence(self, info: Info) -> int:
        return _aggregate(info, self, lambda s: s.confidence)

    @strawberry.field(description="How many organisations assert it, among the assertions you see.")
    @lean
    def organisations_asserting(self, info: Info) -> int:
        return _aggregate(info, self, lambda s: s.organisations)

    @strawberry.field
    @lean
    def first_seen_at(self, info: Info) -> datetime:
        return _aggregate(info, self, lambda s: s.first_seen_at)

    @strawberry.field
    @lean
    def last_seen_at(self, info: Info) -> datetime:
        return _aggregate(info, self, lambda s: s.last_seen_at)

    @strawberry.field(description="The assertions on it you may see, oldest first.")
    @lean
    def assertions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[IndicatorAssertion, strawberry.lazy("schema.indicators.types")]]:
        limit, after_key = window_args(info, first, after)
        who = viewer_now(info)
        if not isinstance(who, Missing):
            every = ready(loaders(info).assertions_of, (who, self.raw_id))
            if not isinstance(every, Missing):
                return _assertion_connection(every, limit, after_key)

        async def load() -> Connection[IndicatorAssertion]:
            every = await loaders(info).assertions_of.load((await viewer(info), self.raw_id))
            return _assertion_connection(every, limit, after_key)

        return later(load())


@strawberry.type(description="One organisation's assertion about an indicator.")
class IndicatorAssertion(Node):
    id: strawberry.ID
    distribution: Distribution  # type: ignore[valid-type]
    tlp: TLP  # type: ignore[valid-type]
    confidence: int = strawberry.field(description="0–100.")
    severity: Severity  # type: ignore[valid-type]
    brands: list[str]
    product_category: str | None = strawberry.field(description="A product taxonomy id.")
    valid_from: datetime | None
    valid_until: datetime | None
    note: str
    tags: list[str]
    evidence_links: list[str]
    details: JSON = strawberry.field(
        description="What the normaliser read from the submitted value (platform, region, carrier…)."
    )
    group_key: str | None = strawberry.field(
        description="Assertions of one organisation sharing a group key (a test buy, a case) are linked."
    )
    status: AssertionStatus  # type: ignore[valid-type]
    revocation_reason: RevocationReason | None  # type: ignore[valid-type]
    revocation_note: str | None
    revoked_at: datetime | None
    first_seen_at: datetime
    last_seen_at: datetime
    score: float = strawberry.field(
        description="This assertion's own score (over the reactions that share its visibility)."
    )
    version: int
    created_at: datetime
    updated_at: datetime
    raw_id: strawberry.Private[uuid.UUID]
    indicator_id: strawberry.Private[uuid.UUID]
    owner_org_id: strawberry.Private[uuid.UUID]
    working_group_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, a: models.IndicatorAssertion) -> IndicatorAssertion:
        return cls(
            id=to_global_id("IndicatorAssertion", a.id),
            distribution=a.distribution,
            tlp=a.tlp,
            confidence=a.confidence,
            severity=a.severity,
            brands=list(a.brands),
            product_category=a.product_category,
            valid_from=a.valid_from,
            valid_until=a.valid_until,
            note=a.note,
            tags=list(a.tags),
            evidence_links=list(a.evidence_links),
            details=dict(a.details),
            group_key=a.group_key,
            status=a.status,
            revocation_reason=a.revocation_reason,
            revocation_note=a.revocation_note,
            revoked_at=a.revoked_at,
            first_seen_at=a.first_seen_at,
            last_seen_at=a.last_seen_at,
            score=a.score,
            version=a.version,
            created_at=a.created_at,
            updated_at=a.updated_at,
            raw_id=a.id,
            indicator_id=a.indicator_id,
            owner_org_id=a.owner_org_id,
            working_group_id=a.working_group_id,
        )

    @strawberry.field
    async def indicator(self, info: Info) -> Indicator | None:
        found = await loaders(info).indicator.load((await viewer(info), self.indicator_id))
        return Indicator.from_model(found) if found else None

    @strawberry.field(description="The organisation that made it.")
    @lean
    def organisation(self, info: Info) -> Organisation:
        return organisation_of(info, self.owner_org_id)

    @strawberry.field
    async def working_group(self, info: Info) -> WorkingGroup | None:
        if self.working_group_id is None:
            return None
        group = await info.context.loaders.working_group.load(self.working_group_id)
        return WorkingGroup.from_model(group) if group else None

    @strawberry.field(description="Reactions to it you may see, oldest first.")
    @lean
    def reactions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[IndicatorReaction, strawberry.lazy("schema.indicators.types")]]:
        return _window(
            info, loaders(info).reactions, self.raw_id, first, after, IndicatorReaction.from_model
        )

    @strawberry.field(description="Corrections proposed to it that you may see, oldest first.")
    @lean
    def proposals(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[IndicatorProposal, strawberry.lazy("schema.indicators.types")]]:
        return _window(
            info, loaders(info).proposals, self.raw_id, first, after, IndicatorProposal.from_model
        )


def _window(
    info: Info, loader: Any, owner: uuid.UUID, first: int | None, after: str | None, build: Any
) -> Connection[Any]:
    """A window of an assertion's reactions or proposals: at once when loaded, else later."""
    limit, after_key = window_args(info, first, after)

    def connection(window: tuple[list[Any], int]) -> Connection[Any]:
        rows, total = window
        return build_connection(
            [build(r) for r in rows[:limit]],
            [str(r.id) for r in rows[:limit]],
            has_next_page=len(rows) > limit,
            has_previous_page=after_key is not None,
            count=int(total),
        )

    who = viewer_now(info)
    if not isinstance(who, Missing):
        found = ready(loader, (who, owner, after_key, limit))
        if not isinstance(found, Missing):
            return connection(found)

    async def load() -> Connection[Any]:
        return connection(await loader.load((await viewer(info), owner, after_key, limit)))

    return later(load())


@strawberry.type(description="An organisation's reaction to an assertion.")
class IndicatorReaction(Node):
    id: strawberry.ID
    kind: ReactionKind  # type: ignore[valid-type]
    platform: str | None
    occurred_at: datetime | None = strawberry.field(
        description="When it was seen, bought, or taken down."
    )
    count: int | None = strawberry.field(description="How many times it was seen (SEEN_TOO).")
    order_number: str | None
    verdict: TestBuyVerdict | None  # type: ignore[valid-type]
    evidence_url: str | None
    reason: str | None
    platform_action: str | None
    distribution: Distribution  # type: ignore[valid-type]
    tlp: TLP  # type: ignore[valid-type]
    created_at: datetime
    owner_org_id: strawberry.Private[uuid.UUID]
    assertion_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, r: models.IndicatorReaction) -> IndicatorReaction:
        return cls(
            id=to_global_id("IndicatorReaction", r.id),
            kind=r.kind,
            platform=r.platform,
            occurred_at=r.occurred_at,
            count=r.count,
            order_number=r.order_number,
            verdict=r.verdict,
            evidence_url=r.evidence_url,
            reason=r.reason,
            platform_action=r.platform_action,
            distribution=r.distribution,
            tlp=r.tlp,
            created_at=r.created_at,
            owner_org_id=r.owner_org_id,
            assertion_id=r.assertion_id,
        )

    @strawberry.field(description="The organisation that reacted.")
    @lean
    def organisation(self, info: Info) -> Organisation:
        return organisation_of(info, self.owner_org_id)


@strawberry.type(description="A correction one organisation proposes to another's assertion.")
class IndicatorProposal(Node):
    id: strawberry.ID
    changes: JSON = strawberry.field(description="The fields to change and their new values.")
    reason: str
    state: ProposalState  # type: ignore[valid-type]
    decision_reason: str | None
    decided_at: datetime | None
    created_at: datetime
    owner_org_id: strawberry.Private[uuid.UUID]
    assertion_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, p: models.IndicatorProposal) -> IndicatorProposal:
        return cls(
            id=to_global_id("IndicatorProposal", p.id),
            changes=dict(p.changes),
            reason=p.reason,
            state=p.state,
            decision_reason=p.decision_reason,
            decided_at=p.decided_at,
            created_at=p.created_at,
            owner_org_id=p.owner_org_id,
            assertion_id=p.assertion_id,
        )

    @strawberry.field(description="The organisation that proposed it.")
    def proposer(self, info: Info) -> Organisation:
        return organisation_of(info, self.owner_org_id)

    @strawberry.field
    async def assertion(self, info: Info) -> IndicatorAssertion | None:
        found = await loaders(info).assertion.load((await viewer(info), self.assertion_id))
        return IndicatorAssertion.from_model(found) if found else None


@strawberry.type(description="A value a brand registered as its own: submitting it is refused.")
class AllowlistEntry(Node):
    id: strawberry.ID
    kind: AllowlistKind  # type: ignore[valid-type]
    type: IndicatorType  # type: ignore[valid-type]
    value: str
    brand: str
    label: str
    note: str
    distribution: Distribution  # type: ignore[valid-type]
    tlp: TLP  # type: ignore[valid-type]
    created_at: datetime
    owner_org_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, e: models.AllowlistEntry) -> AllowlistEntry:
        return cls(
            id=to_global_id("AllowlistEntry", e.id),
            kind=e.kind,
            type=e.type,
            value=e.value,
            brand=e.brand,
            label=e.label,
            note=e.note,
            distribution=e.distribution,
            tlp=e.tlp,
            created_at=e.created_at,
            owner_org_id=e.owner_org_id,
        )

    @strawberry.field(description="The organisation that registered it.")
    @lean
    def organisation(self, info: Info) -> Organisation:
        return organisation_of(info, self.owner_org_id)


@strawberry.type(description="Two indicators joined by assertions you see both of.")
class NetworkLink:
    reason: LinkReason  # type: ignore[valid-type]
    group_key: str | None
    source: Indicator
    target: Indicator


@strawberry.type(description="The cluster of indicators connected to one, as far as you may see.")
class SellerNetwork:
    indicators: list[Indicator]
    links: list[NetworkLink]
    truncated: bool = strawberry.field(
        description="The walk stopped at its depth or size cap; there may be more beyond."
    )

    @classmethod
    def from_network(cls, network: Network) -> SellerNetwork:
        nodes = {i.id: Indicator.from_model(i) for i in network.indicators}
        return cls(
            indicators=list(nodes.values()),
            links=[
                NetworkLink(
                    reason=link.reason,
                    group_key=link.group_key,
                    source=nodes[link.source_indicator_id],
                    target=nodes[link.target_indicator_id],
                )
                for link in network.links
            ],
            truncated=network.truncated,
        )
