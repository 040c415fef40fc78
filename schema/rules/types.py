from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from alliance.rules import definition as d
from alliance.rules import models
from alliance.rules.service import definition_of
from schema.errors import FieldError
from schema.orgs.types import Organisation, WorkingGroup
from schema.relay import Node, to_global_id
from schema.sharing import TLP, Distribution

RuleStatus = strawberry.enum(
    d.RuleStatus,
    description="DRAFT versions are edited; the ACTIVE version is in force; RETIRED ones were.",
)
Decision = strawberry.enum(
    d.Decision,
    description=(
        "PROHIBIT: blocked unless an exception holds. RESTRICT: allowed only where an "
        "exception holds, otherwise blocked. ALLOW_IF: allowed where an exception holds, "
        "otherwise sent to review."
    ),
)
Rationale = strawberry.enum(d.Rationale, description="Why the rule exists.")
ItemCondition = strawberry.enum(d.ItemCondition, description="The condition of a listed item.")


@strawberry.type
class AuthorisedSeller:
    platform: str
    seller_id: str
    name: str


@strawberry.type(description="Terms matched with the folding of keyword indicators.")
class KeywordQuery:
    all_of: list[str]
    any_of: list[str]
    none_of: list[str]


@strawberry.type(description="What lets an in-scope listing through.")
class RuleExceptions:
    authorised_sellers: list[AuthorisedSeller]
    certification_ids: list[str]
    required_statement: str | None
    ships_to_only: list[str] = strawberry.field(
        description="The listing is excepted when it ships only to these countries."
    )


@strawberry.type
class RuleDefinition:
    name: str
    description: str
    decision: Decision  # type: ignore[valid-type]
    rationale: Rationale  # type: ignore[valid-type]
    jurisdictions: list[str] = strawberry.field(description="ISO countries; none: everywhere.")
    platforms: list[str]
    category_ids: list[int] = strawberry.field(description="Taxonomy ids; descendants included.")
    brands: list[str]
    keywords: KeywordQuery
    conditions: list[ItemCondition]  # type: ignore[valid-type]
    exceptions: RuleExceptions
    evidence: list[str]
    effective_from: datetime | None
    effective_to: datetime | None

    @classmethod
    def from_definition(cls, rule: d.RuleDefinition) -> RuleDefinition:
        e = rule.exceptions
        return cls(
            name=rule.name,
            description=rule.description,
            decision=rule.decision,
            rationale=rule.rationale,
            jurisdictions=list(rule.jurisdictions),
            platforms=list(rule.platforms),
            category_ids=list(rule.category_ids),
            brands=list(rule.brands),
            keywords=KeywordQuery(
                all_of=list(rule.keywords.all_of),
                any_of=list(rule.keywords.any_of),
                none_of=list(rule.keywords.none_of),
            ),
            conditions=list(rule.conditions),
            exceptions=RuleExceptions(
                authorised_sellers=[
                    AuthorisedSeller(platform=s.platform, seller_id=s.seller_id, name=s.name)
                    for s in e.authorised_sellers
                ],
                certification_ids=list(e.certification_ids),
                required_statement=e.required_statement,
                ships_to_only=list(e.ships_to_only),
            ),
            evidence=list(rule.evidence),
            effective_from=rule.effective_from,
            effective_to=rule.effective_to,
        )


@strawberry.type(description="One immutable version of a rule (a draft until activated).")
class RuleVersion:
    number: int
    status: RuleStatus  # type: ignore[valid-type]
    definition: RuleDefinition
    change_note: str
    author: str | None
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None
    activated_by: str | None
    retired_at: datetime | None

    @classmethod
    def from_model(cls, v: models.RuleVersion) -> RuleVersion:
        return cls(
            number=v.number,
            status=v.status,
            definition=RuleDefinition.from_definition(definition_of(v)),
            change_note=v.change_note,
            author=v.author,
            created_at=v.created_at,
            updated_at=v.updated_at,
            activated_at=v.activated_at,
            activated_by=v.activated_by,
            retired_at=v.retired_at,
        )


@strawberry.type(description="A banned-category rule and its versions.")
class Rule(Node):
    id: strawberry.ID
    name: str
    status: RuleStatus  # type: ignore[valid-type]
    active_version: int | None
    latest_version: int
    version: int = strawberry.field(description="Bumped on every write (for expectedVersion).")
    distribution: Distribution  # type: ignore[valid-type]
    tlp: TLP  # type: ignore[valid-type]
    created_at: datetime
    updated_at: datetime
    raw_id: strawberry.Private[uuid.UUID]
    owner_org_id: strawberry.Private[uuid.UUID]
    working_group_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, rule: models.Rule) -> Rule:
        return cls(
            id=to_global_id("Rule", rule.id),
            name=rule.name,
            status=rule.status,
            active_version=rule.active_version,
            latest_version=rule.latest_version,
            version=rule.version,
            distribution=rule.distribution,
            tlp=rule.tlp,
            created_at=rule.created_at,
            updated_at=rule.updated_at,
            raw_id=rule.id,
            owner_org_id=rule.owner_org_id,
            working_group_id=rule.working_group_id,
        )

    @strawberry.field(description="The organisation that proposed the rule.")
    async def owner(self, info: Info) -> Organisation | None:
        org = await info.context.loaders.organisation.load(self.owner_org_id)
        return Organisation.from_model(org) if org else None

    @strawberry.field(description="The working group that proposed the rule.")
    async def working_group(self, info: Info) -> WorkingGroup | None:
        group = await info.context.loaders.working_group.load(self.working_group_id)
        return WorkingGroup.from_model(group) if group else None

    @strawberry.field(description="Every version, oldest first: the rule's changelog.")
    async def versions(self, info: Info) -> list[RuleVersion]:
        found = await info.context.loaders.rules.versions.load(self.raw_id)
        return [RuleVersion.from_model(v) for v in found]

    @strawberry.field(description="The version in force, or null.")
    async def active(self, info: Info) -> RuleVersion | None:
        if self.active_version is None:
            return None
        found = await info.context.loaders.rules.versions.load(self.raw_id)
        return next(
            (RuleVersion.from_model(v) for v in found if v.number == self.active_version), None
        )

    @strawberry.field(description="The newest version (a draft while one is open).")
    async def latest(self, info: Info) -> RuleVersion | None:
        found = await info.context.loaders.rules.versions.load(self.raw_id)
        return RuleVersion.from_model(found[-1]) if found else None


class CatalogueFormatModel(enum.Enum):
    CSV = "csv"
    JSONL = "jsonl"


CatalogueFormat = strawberry.enum(
    CatalogueFormatModel,
    name="CatalogueFormat",
    description="CSV with a header row of listing field names, or one JSON object a line.",
)


@strawberry.type
class NamedCount:
    name: str
    count: int


@strawberry.type
class BacktestSample:
    line: int
    ref: str | None
    outcome: str
    reason: str


@strawberry.type(description="What a rule version would do to a sample catalogue.")
class RuleBacktest:
    version: int
    listings: int
    in_scope: int
    blocked: int
    review: int
    allowed: int
    refused: int = strawberry.field(description="Lines that are no valid listing.")
    exceptions: list[NamedCount]
    authorised_sellers_hit: list[NamedCount] = strawberry.field(
        description="Sellers on brand allowlists whose listings the rule would block or review."
    )
    samples: list[BacktestSample]
    problems: list[FieldError]

    @classmethod
    def from_report(cls, report: Any) -> RuleBacktest:
        return cls(
            version=report.version,
            listings=report.listings,
            in_scope=report.in_scope,
            blocked=report.blocked,
            review=report.review,
            allowed=report.allowed,
            refused=report.refused,
            exceptions=[NamedCount(name=k, count=v) for k, v in report.exceptions.items()],
            authorised_sellers_hit=[
                NamedCount(name=k, count=v) for k, v in report.authorised_sellers_hit.items()
            ],
            samples=[
                BacktestSample(line=s.line, ref=s.ref, outcome=s.outcome.value, reason=s.reason)
                for s in report.samples
            ],
            problems=[
                FieldError(path=list(p.path), code=p.code, message=p.message)
                for p in report.problems
            ],
        )
