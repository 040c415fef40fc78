from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alliance.errors import InvalidInput
from alliance.rules.definition import Decision, parse_definition

VALID = {
    "name": "Airbags",
    "decision": "PROHIBIT",
    "rationale": "SAFETY",
    "category_ids": [899],
    "keywords": {"any_of": ["airbag"], "none_of": ["avalanche"]},
    "jurisdictions": ["de", "FR"],
    "conditions": ["USED", "DEPLOYED"],
    "effective_from": "2014-06-01T00:00:00+00:00",
}


def paths(data: dict, **kw) -> dict[str, str]:  # type: ignore[no-untyped-def,type-arg]
    with pytest.raises(InvalidInput) as caught:
        parse_definition(data, **kw)
    return {".".join(p.path): p.code for p in caught.value.problems}


def test_a_valid_definition_round_trips_through_json() -> None:
    parsed = parse_definition(VALID)
    assert parsed.jurisdictions == ("DE", "FR")
    assert parsed.decision == Decision.PROHIBIT
    assert parse_definition(parsed.to_json()) == parsed
    assert parsed.in_force(datetime(2020, 1, 1, tzinfo=UTC))
    assert not parsed.in_force(datetime(2010, 1, 1, tzinfo=UTC))


def test_every_problem_is_named_with_its_path() -> None:
    found = paths(
        {
            "name": "",
            "decision": "BAN",
            "rationale": "SAFETY",
            "jurisdictions": ["XX"],
            "category_ids": [12345678],
            "keywords": {"any_of": ["!!!", ""]},
            "effective_from": "2020-01-01T00:00:00+00:00",
            "effective_to": "2019-01-01T00:00:00+00:00",
        },
        known_categories={899},
    )
    assert found == {
        "name": "REQUIRED",
        "decision": "INVALID_CHOICE",
        "jurisdictions.0": "INVALID_COUNTRY",
        "categoryIds.0": "UNKNOWN_CATEGORY",
        "keywords.anyOf.1": "BLANK",
        "effectiveTo": "BEFORE_START",
    } | ({"keywords.anyOf.0": "BLANK"} if "keywords.anyOf.0" in found else {})


def test_a_restriction_names_its_exceptions_and_a_scope_is_required() -> None:
    found = paths({"name": "x", "decision": "RESTRICT", "rationale": "LEGAL"})
    assert found == {"exceptions": "EXCEPTION_REQUIRED", "scope": "EMPTY_SCOPE"}


def test_naive_dates_are_refused() -> None:
    assert paths({**VALID, "effective_to": "2030-01-01T00:00:00"}) == {
        "effectiveTo": "INVALID_DATE"
    }
