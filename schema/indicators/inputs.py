"""Inputs shared by the indicator queries and mutations, and their translation to service data."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import strawberry

from alliance.errors import FieldProblem, InvalidInput
from alliance.indicators.service import Submission
from schema.indicators.types import IndicatorType, Severity
from schema.relay import from_global_id
from schema.sharing import TLP, Distribution

READ = ("indicators:read",)
WRITE = ("indicators:write",)


@strawberry.input(description="One part of a value: `platform`, `carrier`, `kind`, `line1`…")
class IndicatorPartInput:
    name: str
    value: str


@strawberry.input(description="An indicator in any form, and what your organisation asserts.")
class SubmitIndicatorInput:
    type: IndicatorType  # type: ignore[valid-type]
    value: str
    country: str | None = strawberry.field(
        default=None, description="ISO 3166-1 code: a phone's region, an address's country."
    )
    parts: list[IndicatorPartInput] | None = strawberry.field(
        default=None, description="The type's own parts (a seller account's platform…)."
    )
    working_group_id: strawberry.ID | None = None
    distribution: Distribution = Distribution.WORKING_GROUP  # type: ignore[valid-type]
    tlp: TLP = TLP.AMBER  # type: ignore[valid-type]
    confidence: int = strawberry.field(default=50, description="0–100.")
    severity: Severity = Severity.MEDIUM  # type: ignore[valid-type]
    brands: list[str] | None = None
    product_category: str | None = strawberry.field(
        default=None, description="A product taxonomy id."
    )
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    note: str = ""
    tags: list[str] | None = None
    evidence_links: list[str] | None = None
    group_key: str | None = strawberry.field(
        default=None,
        description="Submitted together (one test buy, one case): your assertions sharing it are linked.",
    )


def optional_id(value: strawberry.ID | None, field: str, kind: str) -> uuid.UUID | None:
    return None if value is None else from_global_id(value, field, kind)[1]


def parts_of(parts: list[IndicatorPartInput] | None) -> dict[str, object]:
    return {p.name: p.value for p in parts or ()}


def _enum_value(value: object) -> object:
    return value.value if isinstance(value, enum.Enum) else value


def to_submission(input: SubmitIndicatorInput) -> Submission:
    return Submission(
        type=str(_enum_value(input.type)),
        value=input.value,
        country=input.country,
        parts=parts_of(input.parts),
        working_group_id=optional_id(input.working_group_id, "workingGroupId", "WorkingGroup"),
        distribution=input.distribution,
        tlp=input.tlp,
        confidence=input.confidence,
        severity=input.severity,
        brands=tuple(input.brands or ()),
        product_category=input.product_category,
        valid_from=input.valid_from,
        valid_until=input.valid_until,
        note=input.note,
        tags=tuple(input.tags or ()),
        evidence_links=tuple(input.evidence_links or ()),
        group_key=input.group_key,
    )


def prefixed(exc: InvalidInput, *prefix: str) -> InvalidInput:
    """The same problems with paths from the top of the mutation's arguments."""
    return InvalidInput([FieldProblem((*prefix, *p.path), p.code, p.message) for p in exc.problems])
