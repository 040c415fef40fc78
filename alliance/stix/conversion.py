"""Assertions and organisations as STIX 2.1 objects (pure: plain data in, JSON-ready dicts out).

An indicator *assertion* (one organisation's statement about a value, with its own
confidence, validity and marking) is one STIX ``indicator``; its organisation is the
``identity`` it is ``created_by``. Ids are deterministic (:mod:`alliance.stix.ids`), and the
STIX version of an assertion is its ``modified`` time, its last write.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.models import AssertionStatus
from alliance.sharing import TLP, Distribution
from alliance.stix.extensions import RULE_TYPE, Instance
from alliance.stix.ids import stix_id
from alliance.stix.markings import marking_id
from alliance.stix.patterns import pattern_for

SPEC_VERSION = "2.1"
# Details a value's normaliser needs again to read it back (a PDQ hash's quality).
PART_DETAILS = frozenset({"quality"})
MAX_NAME = 250


def timestamp(moment: datetime) -> str:
    """A STIX timestamp in UTC, to the microsecond (the precision the database keeps)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> datetime:
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a STIX timestamp is in UTC (ends with Z)")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Owner:
    id: uuid.UUID
    slug: str
    name: str
    kind: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AssertionData:
    """One assertion with the indicator it is about (the fields conversion reads)."""

    id: uuid.UUID
    indicator_type: IndicatorType
    value: str
    owner_org_id: uuid.UUID
    working_group_slug: str | None
    distribution: Distribution
    tlp: TLP
    confidence: int
    severity: str
    status: AssertionStatus
    brands: tuple[str, ...]
    product_category: str | None
    tags: tuple[str, ...]
    evidence_links: tuple[str, ...]
    note: str
    valid_from: datetime | None
    valid_until: datetime | None
    first_seen_at: datetime
    created_at: datetime
    updated_at: datetime
    score: float
    parts: dict[str, Any]

    @classmethod
    def of(cls, row: Any) -> AssertionData:
        """From a row of the assertion's columns, its indicator's (``indicator_type``, ``value``,
        ``indicator_details``) and its group's ``working_group_slug``."""
        parts = {k: v for k, v in (row.indicator_details or {}).items() if k in PART_DETAILS}
        parts |= {k: v for k, v in (row.details or {}).items() if k in PART_DETAILS}
        return cls(
            id=row.id,
            indicator_type=IndicatorType(row.indicator_type),
            value=row.value,
            owner_org_id=row.owner_org_id,
            working_group_slug=row.working_group_slug,
            distribution=Distribution(row.distribution),
            tlp=TLP(row.tlp),
            confidence=row.confidence,
            severity=str(getattr(row.severity, "value", row.severity)),
            status=AssertionStatus(row.status),
            brands=tuple(row.brands or ()),
            product_category=row.product_category,
            tags=tuple(row.tags or ()),
            evidence_links=tuple(row.evidence_links or ()),
            note=row.note or "",
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            first_seen_at=row.first_seen_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            score=float(row.score or 0.0),
            parts=parts,
        )


@functools.lru_cache(maxsize=4096)
def organisation_id(instance: Instance, organisation_id: uuid.UUID) -> str:
    return stix_id(instance.namespace, "identity", "organisation", organisation_id)


def indicator_id(instance: Instance, assertion_id: uuid.UUID) -> str:
    return stix_id(instance.namespace, "indicator", "indicator.assertion", assertion_id)


def identity_object(instance: Instance, owner: Owner) -> dict[str, Any]:
    created = timestamp(owner.created_at)
    return {
        "type": "identity",
        "spec_version": SPEC_VERSION,
        "id": organisation_id(instance, owner.id),
        "created_by_ref": instance.identity_id,
        "created": created,
        "modified": max(created, timestamp(owner.updated_at)),
        "name": owner.name,
        "identity_class": "organization",
        "roles": [owner.kind.lower()],
        "external_references": [{"source_name": "alliance", "external_id": owner.slug}],
    }


def _validity(data: AssertionData) -> tuple[datetime, datetime | None]:
    start = data.valid_from or min(data.first_seen_at, data.created_at)
    end = data.valid_until
    if end is not None and end <= start:
        # An assertion valid until before it was first seen: STIX wants the window non-empty.
        start = end - timedelta(milliseconds=1)
    return start, end


def indicator_object(instance: Instance, data: AssertionData) -> dict[str, Any]:
    start, end = _validity(data)
    created = timestamp(data.created_at)
    label = f"{data.indicator_type.value}: {data.value}"
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": SPEC_VERSION,
        "id": indicator_id(instance, data.id),
        "created_by_ref": organisation_id(instance, data.owner_org_id),
        "created": created,
        "modified": max(created, timestamp(data.updated_at)),
        "name": label if len(label) <= MAX_NAME else label[: MAX_NAME - 1] + "…",
        "indicator_types": ["malicious-activity"],
        "pattern": pattern_for(data.indicator_type, data.value),
        "pattern_type": "stix",
        "pattern_version": SPEC_VERSION,
        "valid_from": timestamp(start),
        "confidence": data.confidence,
        "revoked": data.status == AssertionStatus.REVOKED,
        "object_marking_refs": [marking_id(data.tlp)],
    }
    if end is not None:
        obj["valid_until"] = timestamp(end)
    if data.note:
        obj["description"] = data.note
    if data.tags:
        obj["labels"] = list(data.tags)
    if data.evidence_links:
        obj["external_references"] = [
            {"source_name": "evidence", "url": link} for link in data.evidence_links
        ]
    extension: dict[str, Any] = {
        "extension_type": "property-extension",
        "indicator_type": data.indicator_type.value,
        "value": data.value,
        "severity": data.severity,
        "status": data.status.value,
        "distribution": data.distribution.value,
        "score": round(data.score, 4),
    }
    if data.working_group_slug:
        extension["working_group"] = data.working_group_slug
    if data.brands:
        extension["brands"] = list(data.brands)
    if data.product_category:
        extension["product_category"] = data.product_category
    if data.parts:
        extension["parts"] = dict(data.parts)
    obj["extensions"] = {instance.indicator_extension_id: extension}
    return obj


@dataclass(frozen=True, slots=True)
class RuleData:
    """A banned-category rule with the definition of its version in force (the latest one of
    a retired rule)."""

    id: uuid.UUID
    name: str
    owner_org_id: uuid.UUID
    status: str
    version_number: int
    definition: dict[str, Any]
    tlp: TLP
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, rule: Any, version: Any) -> RuleData:
        status = getattr(rule.status, "value", rule.status)
        return cls(
            id=rule.id,
            name=rule.name,
            owner_org_id=rule.owner_org_id,
            status=str(status),
            version_number=version.number,
            definition=dict(version.definition or {}),
            tlp=TLP(getattr(rule.tlp, "value", rule.tlp)),
            created_at=rule.created_at,
            updated_at=rule.updated_at,
        )


def rule_id(instance: Instance, rule: uuid.UUID) -> str:
    return stix_id(instance.namespace, RULE_TYPE, "rule", rule)


def _without_nulls(value: Any) -> Any:
    # STIX properties are absent rather than null.
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def rule_object(instance: Instance, data: RuleData) -> dict[str, Any]:
    created = timestamp(data.created_at)
    definition = _without_nulls(dict(data.definition))
    obj: dict[str, Any] = {
        "type": RULE_TYPE,
        "spec_version": SPEC_VERSION,
        "id": rule_id(instance, data.id),
        "created_by_ref": organisation_id(instance, data.owner_org_id),
        "created": created,
        "modified": max(created, timestamp(data.updated_at)),
        "name": data.name,
        "status": data.status,
        "rule_version": data.version_number,
        "revoked": data.status == "RETIRED",
        "object_marking_refs": [marking_id(data.tlp)],
        "extensions": {instance.extension_id(RULE_TYPE): {"extension_type": "new-sdo"}},
    }
    for name in ("decision", "rationale", "description"):
        if definition.get(name):
            obj[name] = definition.pop(name)
    definition.pop("name", None)
    obj["definition"] = definition
    return obj
