from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from alliance.cases import manifest, models
from alliance.indicators.models import Indicator as IndicatorModel
from schema.cases.dataloaders import case_loaders
from schema.indicators.types import IndicatorType, TestBuyVerdict
from schema.orgs.types import Organisation, WorkingGroup
from schema.relay import Node, to_global_id
from schema.sharing import TLP, Distribution

CaseStatus = strawberry.enum(
    models.CaseStatus,
    description=(
        "OPEN (with its opener; again after a decline), REFERRED (to an enforcement "
        "organisation), ACCEPTED, INVESTIGATING (the enforcement organisation added to it), CLOSED."
    ),
)
ParticipantRole = strawberry.enum(
    models.ParticipantRole, description="Why an organisation sees a case."
)
EvidenceKind = strawberry.enum(models.EvidenceKind, description="What an evidence file is.")
CaseEventKind = strawberry.enum(models.CaseEventKind, description="What happened to a case.")


@strawberry.type(description="An amount of money in an ISO 4217 currency.")
class Money:
    amount: str = strawberry.field(description="A decimal number, e.g. 129.90.")
    currency: str

    @classmethod
    def of(cls, minor: int | None, currency: str | None) -> Money | None:
        if minor is None or currency is None:
            return None
        return cls(amount=f"{minor // 100}.{minor % 100:02d}", currency=currency)


async def _org(info: Info, org_id: uuid.UUID | None) -> Organisation | None:
    if org_id is None:
        return None
    org = await info.context.loaders.organisation.load(org_id)
    return Organisation.from_model(org) if org else None


@strawberry.type(
    description=(
        "A file received as evidence, stored by its SHA-256, with when and by whom it was "
        "received. Delivered inside case packages, never served inline."
    )
)
class EvidenceFile:
    sha256: str
    size_bytes: int
    filename: str
    media_type: str = strawberry.field(description="As the sender declared it; not trusted.")
    kind: EvidenceKind  # type: ignore[valid-type]
    description: str
    period_start: date | None = strawberry.field(description="Sales records: the period covered.")
    period_end: date | None
    received_at: datetime
    received_by: str = strawberry.field(
        description="Who sent it: person:<id>@org or client:<id>@org."
    )
    received_by_org_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def received_by_organisation(self, info: Info) -> Organisation | None:
        return await _org(info, self.received_by_org_id)

    @classmethod
    def from_model(cls, f: models.EvidenceFile) -> EvidenceFile:
        return cls(
            sha256=f.sha256,
            size_bytes=f.size_bytes,
            filename=f.filename,
            media_type=f.media_type,
            kind=f.kind,
            description=f.description,
            period_start=f.period_start,
            period_end=f.period_end,
            received_at=f.received_at,
            received_by=f.received_by,
            received_by_org_id=f.received_by_org_id,
        )


@strawberry.type(description="An indicator assertion a test buy confirms, and its reaction.")
class TestBuyConfirmation:
    __test__ = False
    assertion_id: strawberry.ID
    indicator_id: strawberry.ID
    reaction_id: strawberry.ID


@strawberry.type(
    description="A purchase made to check a seller: what was bought where, and what arrived."
)
class TestBuy(Node):
    __test__ = False
    id: strawberry.ID
    distribution: Distribution  # type: ignore[valid-type]
    tlp: TLP  # type: ignore[valid-type]
    buyer_name: str | None
    buyer_person_id: strawberry.ID | None
    purchased_at: datetime
    platform: str
    listing_url: str | None
    seller: str
    order_number: str
    price: Money | None
    shipping_address: str | None
    return_address: str | None
    waybill: str | None
    verdict: TestBuyVerdict  # type: ignore[valid-type]
    guide_reference: str | None = strawberry.field(
        description="The identification guide the item was judged against."
    )
    features_checked: list[str] = strawberry.field(description="The guide's features checked.")
    note: str
    created_at: datetime
    raw_id: strawberry.Private[uuid.UUID]
    owner_org_id: strawberry.Private[uuid.UUID]
    working_group_raw: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="The buying organisation.")
    async def organisation(self, info: Info) -> Organisation | None:
        return await _org(info, self.owner_org_id)

    @strawberry.field
    async def working_group(self, info: Info) -> WorkingGroup | None:
        if self.working_group_raw is None:
            return None
        group = await info.context.loaders.working_group.load(self.working_group_raw)
        return WorkingGroup.from_model(group) if group else None

    @strawberry.field(description="Receipts, screenshots, photos of what arrived.")
    async def attachments(self, info: Info) -> list[EvidenceFile]:
        files = await case_loaders(info).attachments.load(self.raw_id)
        return [EvidenceFile.from_model(f) for f in files]

    @strawberry.field(description="The indicator assertions it confirms (CONFIRMED_BY_TEST_BUY).")
    async def confirms(self, info: Info) -> list[TestBuyConfirmation]:
        rows = await case_loaders(info).confirmations.load(self.raw_id)
        return [
            TestBuyConfirmation(
                assertion_id=to_global_id("IndicatorAssertion", r.assertion_id),
                indicator_id=to_global_id("Indicator", r.indicator_id),
                reaction_id=to_global_id("IndicatorReaction", r.reaction_id),
            )
            for r in rows
        ]

    @classmethod
    def from_model(cls, b: models.TestBuy) -> TestBuy:
        return cls(
            id=to_global_id("TestBuy", b.id),
            distribution=b.distribution,
            tlp=b.tlp,
            buyer_name=b.buyer_name,
            buyer_person_id=to_global_id("Person", b.buyer_person_id)
            if b.buyer_person_id
            else None,
            purchased_at=b.purchased_at,
            platform=b.platform,
            listing_url=b.listing_url,
            seller=b.seller,
            order_number=b.order_number,
            price=Money.of(b.price_minor, b.price_currency),
            shipping_address=b.shipping_address,
            return_address=b.return_address,
            waybill=b.waybill,
            verdict=b.verdict,
            guide_reference=b.guide_reference,
            features_checked=list(b.features_checked or []),
            note=b.note,
            created_at=b.created_at,
            raw_id=b.id,
            owner_org_id=b.owner_org_id,
            working_group_raw=b.working_group_id,
        )


@strawberry.type
class CaseParticipant:
    role: ParticipantRole  # type: ignore[valid-type]
    added_at: datetime
    organisation_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def organisation(self, info: Info) -> Organisation | None:
        return await _org(info, self.organisation_id)


@strawberry.type(
    description="An indicator a case is about (seen by participants through the case)."
)
class CaseIndicator:
    indicator_id: strawberry.ID
    type: IndicatorType  # type: ignore[valid-type]
    value: str
    added_at: datetime


@strawberry.type(description="One line of a case's timeline.")
class CaseEvent:
    seq: int
    kind: CaseEventKind  # type: ignore[valid-type]
    occurred_at: datetime
    actor: str | None
    detail: JSON
    organisation_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field
    async def organisation(self, info: Info) -> Organisation | None:
        return await _org(info, self.organisation_id)


@strawberry.type
class CaseOutcome:
    suspects: int
    seized_value: Money | None
    sites_closed: int
    prosecutions: int
    no_action: bool
    note: str | None


@strawberry.type(
    description=(
        "A case over a seller network, indicators and test buys, referred to enforcement. "
        "Seen by its participants only; to anyone else it does not exist."
    )
)
class Case(Node):
    id: strawberry.ID
    reference: str
    title: str
    summary: str
    jurisdiction: str
    status: CaseStatus  # type: ignore[valid-type]
    decline_reason: str | None
    opened_at: datetime
    referred_at: datetime | None
    accepted_at: datetime | None
    closed_at: datetime | None
    outcome: CaseOutcome | None
    seller_network_indicator_id: strawberry.ID | None
    version: int
    raw_id: strawberry.Private[uuid.UUID]
    owner_org_id: strawberry.Private[uuid.UUID]
    enforcement_org_id: strawberry.Private[uuid.UUID | None]
    working_group_raw: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="The organisation that opened the case.")
    async def organisation(self, info: Info) -> Organisation | None:
        return await _org(info, self.owner_org_id)

    @strawberry.field(description="The enforcement organisation it is referred to.")
    async def enforcement_organisation(self, info: Info) -> Organisation | None:
        return await _org(info, self.enforcement_org_id)

    @strawberry.field
    async def working_group(self, info: Info) -> WorkingGroup | None:
        if self.working_group_raw is None:
            return None
        group = await info.context.loaders.working_group.load(self.working_group_raw)
        return WorkingGroup.from_model(group) if group else None

    @strawberry.field
    async def participants(self, info: Info) -> list[CaseParticipant]:
        rows = await case_loaders(info).participants.load(self.raw_id)
        return [
            CaseParticipant(role=p.role, added_at=p.added_at, organisation_id=p.organisation_id)
            for p in rows
        ]

    @strawberry.field
    async def indicators(self, info: Info) -> list[CaseIndicator]:
        rows: list[tuple[Any, IndicatorModel]] = await case_loaders(info).indicators_of_case.load(
            self.raw_id
        )
        return [
            CaseIndicator(
                indicator_id=to_global_id("Indicator", ind.id),
                type=ind.type,
                value=ind.value,
                added_at=item.added_at,
            )
            for item, ind in rows
        ]

    @strawberry.field
    async def test_buys(self, info: Info) -> list[TestBuy]:
        return [
            TestBuy.from_model(b)
            for b in await case_loaders(info).test_buys_of_case.load(self.raw_id)
        ]

    @strawberry.field(description="Every evidence file, in the order of the manifest.")
    async def evidence(self, info: Info) -> list[EvidenceFile]:
        return [
            EvidenceFile.from_model(f) for f in await case_loaders(info).evidence.load(self.raw_id)
        ]

    @strawberry.field(description="The evidence manifest's chain head (what a package signs).")
    async def manifest_head(self, info: Info) -> str:
        rows = await case_loaders(info).manifest.load(self.raw_id)
        return rows[-1].entry_hash if rows else manifest.genesis(str(self.raw_id))

    @strawberry.field
    async def timeline(self, info: Info) -> list[CaseEvent]:
        rows = await case_loaders(info).events.load(self.raw_id)
        return [
            CaseEvent(
                seq=e.seq,
                kind=e.kind,
                occurred_at=e.occurred_at,
                actor=e.actor,
                detail=e.detail,
                organisation_id=e.organisation_id,
            )
            for e in rows
        ]

    @classmethod
    def from_model(cls, c: models.Case) -> Case:
        return cls(
            id=to_global_id("Case", c.id),
            reference=c.reference,
            title=c.title,
            summary=c.summary,
            jurisdiction=c.jurisdiction,
            status=c.status,
            decline_reason=c.decline_reason,
            opened_at=c.opened_at,
            referred_at=c.referred_at,
            accepted_at=c.accepted_at,
            closed_at=c.closed_at,
            outcome=None
            if c.closed_at is None
            else CaseOutcome(
                suspects=c.outcome_suspects or 0,
                seized_value=Money.of(c.outcome_seized_minor, c.outcome_seized_currency),
                sites_closed=c.outcome_sites_closed or 0,
                prosecutions=c.outcome_prosecutions or 0,
                no_action=bool(c.outcome_no_action),
                note=c.outcome_note,
            ),
            seller_network_indicator_id=to_global_id("Indicator", c.seller_network_indicator_id)
            if c.seller_network_indicator_id
            else None,
            version=c.version,
            raw_id=c.id,
            owner_org_id=c.owner_org_id,
            enforcement_org_id=c.enforcement_org_id,
            working_group_raw=c.working_group_id,
        )
