"""Assertions as STIX objects: every one, and every definition and marking the instance
publishes, passes ``stix2-validator`` with no error; and reading one back gives the submission
it came from."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from stix2validator import validate_instance

from alliance.indicators.indicator_type import IndicatorType as T
from alliance.indicators.models import AssertionStatus
from alliance.sharing import TLP, Distribution
from alliance.stix.conversion import (
    AssertionData,
    Owner,
    RuleData,
    identity_object,
    indicator_object,
    rule_object,
)
from alliance.stix.exporting import definition_objects
from alliance.stix.extensions import Instance
from alliance.stix.ids import instance_namespace
from alliance.stix.importing import Placement, read_indicator
from alliance.stix.markings import MARKINGS, TLP_2_EXTENSION_ID, marking_id, tlp_of_refs
from tests.alliance.stix.test_patterns import VALUES

INSTANCE = Instance(
    instance_namespace("https://alliance.example"), "Test", "https://alliance.example"
)
NOW = datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC)


def _data(kind: T, **changes: object) -> AssertionData:
    data = AssertionData(
        id=uuid.UUID("01938a2c-0000-7000-8000-000000000001"),
        indicator_type=kind,
        value=VALUES[kind],
        owner_org_id=uuid.UUID("01938a2c-0000-7000-8000-0000000000aa"),
        working_group_slug="automotive-parts",
        distribution=Distribution.WORKING_GROUP,
        tlp=TLP.AMBER,
        confidence=80,
        severity="HIGH",
        status=AssertionStatus.ACTIVE,
        brands=("acme motors",),
        product_category="automotive.airbags",
        tags=("case-14",),
        evidence_links=("https://evidence.example/1",),
        note="Sells 'OEM' airbags",
        valid_from=None,
        valid_until=NOW + timedelta(days=90),
        first_seen_at=NOW,
        created_at=NOW,
        updated_at=NOW + timedelta(hours=1),
        score=0.71,
        parts={"quality": 90} if kind == T.IMAGE_PDQ else {},
    )
    return replace(data, **changes)  # type: ignore[arg-type]


def _errors(obj: dict[str, object]) -> list[str]:
    return [str(e) for e in validate_instance(obj).errors]


@pytest.mark.parametrize("kind", list(T))
def test_every_indicator_type_validates(kind: T) -> None:
    obj = indicator_object(INSTANCE, _data(kind))
    assert _errors(obj) == []
    assert obj["confidence"] == 80
    assert obj["valid_from"] == "2026-11-30T12:00:00.123456Z"
    assert obj["valid_until"] == "2027-02-28T12:00:00.123456Z"
    assert obj["modified"] == "2026-11-30T13:00:00.123456Z"
    assert obj["revoked"] is False
    assert obj["object_marking_refs"] == [marking_id(TLP.AMBER)]


@pytest.mark.parametrize("tlp", list(TLP))
def test_every_marking_and_revocation_validates(tlp: TLP) -> None:
    obj = indicator_object(INSTANCE, _data(T.DOMAIN, tlp=tlp, status=AssertionStatus.REVOKED))
    assert obj["revoked"] is True
    assert _errors(obj) == []
    assert tlp_of_refs(obj["object_marking_refs"]) == tlp


def test_definitions_markings_and_identities_validate() -> None:
    owner = Owner(uuid.uuid4(), "acme-motors", "Acme Motors", "BRAND", NOW, NOW)
    objects = [*definition_objects(INSTANCE), identity_object(INSTANCE, owner)]
    for obj in objects:
        assert _errors(obj) == [], obj["id"]
    kinds = [o["type"] for o in objects]
    assert kinds.count("extension-definition") == 12
    assert all(m in objects for m in MARKINGS.values())
    # AMBER+STRICT is TLP 2.0's, with the OASIS extension; the others STIX 2.1's predefined ones.
    strict = MARKINGS[TLP.AMBER_STRICT]
    assert strict["extensions"][TLP_2_EXTENSION_ID]["tlp_2_0"] == "amber+strict"
    assert MARKINGS[TLP.CLEAR]["definition"] == {"tlp": "white"}


def test_ids_are_deterministic_per_instance() -> None:
    first = indicator_object(INSTANCE, _data(T.PHONE))
    again = indicator_object(INSTANCE, _data(T.PHONE, confidence=10))
    other = Instance(instance_namespace("https://other.example"), "Other", "https://other.example")
    assert first["id"] == again["id"]
    assert indicator_object(other, _data(T.PHONE))["id"] != first["id"]
    assert (
        first["created_by_ref"]
        == identity_object(
            INSTANCE,
            Owner(_data(T.PHONE).owner_org_id, "acme-motors", "Acme", "BRAND", NOW, NOW),
        )["id"]
    )


@pytest.mark.parametrize("kind", list(T))
def test_an_exported_indicator_reads_back_as_its_submission(kind: T) -> None:
    data = _data(kind, tlp=TLP.AMBER_STRICT, status=AssertionStatus.REVOKED)
    group = uuid.uuid4()
    read = read_indicator(
        indicator_object(INSTANCE, data),
        Placement(group, Distribution.WORKING_GROUP, frozenset(Distribution)),
    )
    s = read.submission
    assert (s.type, s.value, s.tlp, s.distribution) == (
        kind,
        data.value,
        TLP.AMBER_STRICT,
        Distribution.WORKING_GROUP,
    )
    assert s.working_group_id == group
    assert (s.confidence, s.severity, tuple(s.brands), tuple(s.tags)) == (
        80,
        "HIGH",
        data.brands,
        data.tags,
    )
    assert tuple(s.evidence_links) == data.evidence_links
    assert s.valid_until == data.valid_until
    assert s.note == data.note
    assert dict(s.parts) == data.parts
    assert read.revoked is True
    assert read.working_group_slug == "automotive-parts"


@pytest.mark.parametrize("status", ["ACTIVE", "RETIRED"])
def test_a_rule_is_an_extension_defined_object_that_validates(status: str) -> None:
    definition = {
        "name": "Airbag modules",
        "description": "No airbag modules, new or used",
        "decision": "PROHIBIT",
        "rationale": "SAFETY",
        "jurisdictions": ["CN"],
        "category_ids": [8233],
        "keywords": {"all_of": [], "any_of": ["airbag"], "none_of": []},
        "exceptions": {
            "authorised_sellers": [{"platform": "ebay", "seller_id": "acme", "name": ""}],
            "required_statement": None,
        },
        "effective_to": None,
    }
    data = RuleData(
        uuid.uuid4(), "Airbag modules", uuid.uuid4(), status, 3, definition, TLP.GREEN, NOW, NOW
    )
    obj = rule_object(INSTANCE, data)
    assert _errors(obj) == []
    assert obj["type"] == "alliance-banned-category-rule"
    assert obj["revoked"] is (status == "RETIRED")
    assert obj["decision"] == "PROHIBIT"
    assert obj["rule_version"] == 3
    assert "required_statement" not in obj["definition"]["exceptions"]
    assert INSTANCE.extension_id("alliance-banned-category-rule") in obj["extensions"]
