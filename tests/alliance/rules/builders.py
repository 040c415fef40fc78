"""Plain builders of test data for rules (and the callers that write them)."""

from __future__ import annotations

import uuid
from typing import Any

from alliance.auth.principal import Principal

AIRBAG_DEFINITION: dict[str, Any] = {
    "name": "Supplemental restraint system components",
    "decision": "PROHIBIT",
    "rationale": "SAFETY",
    "category_ids": [899],
    "keywords": {"any_of": ["airbag", "air bag", "srs module", "inflator"]},
}


def principal_for(
    org: Any, scopes: str = "rules:write", person_id: uuid.UUID | None = None
) -> Principal:
    return Principal(
        organisation_id=org.id,
        organisation_slug=org.slug,
        client_id="tests",
        subject=f"test:{org.slug}",
        scopes=frozenset(scopes.split()),
        token_id=uuid.uuid4().hex,
        person_id=person_id,
    )
