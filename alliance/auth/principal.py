"""Who is calling: built from a verified access token, or anonymous."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Principal:
    organisation_id: uuid.UUID
    organisation_slug: str
    client_id: str
    subject: str
    scopes: frozenset[str]
    token_id: str
    person_id: uuid.UUID | None = None
    # The working groups the token is limited to (its client's); None: every group the
    # organisation sits in. The sharing policy drops seats outside it.
    working_group_ids: frozenset[uuid.UUID] | None = None
    # When the token stops being valid (seconds since the epoch): what outlives one request
    # (a live subscription) checks it again.
    expires_at: float | None = None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def actor(self) -> str:
        who = f"person:{self.person_id}" if self.person_id else f"client:{self.client_id}"
        return f"{who}@{self.organisation_slug}"

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        person = claims.get("person")
        groups = claims.get("wg")
        return cls(
            organisation_id=uuid.UUID(str(claims["org"])),
            organisation_slug=str(claims.get("org_slug", "")),
            client_id=str(claims["client_id"]),
            subject=str(claims["sub"]),
            scopes=frozenset(str(claims["scope"]).split()),
            token_id=str(claims["jti"]),
            person_id=uuid.UUID(person) if person else None,
            working_group_ids=frozenset(uuid.UUID(str(g)) for g in groups)
            if isinstance(groups, list)
            else None,
            expires_at=float(claims["exp"]) if isinstance(claims.get("exp"), int | float) else None,
        )
