from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from alliance.audit import models
from alliance.audit.service import Outcome
from schema.orgs.types import Organisation
from schema.relay import to_global_id

AuditOutcome = strawberry.enum(
    Outcome, name="AuditOutcome", description="Whether the audited action was allowed or denied."
)


@strawberry.type(
    description="One entry of the append-only audit log, hash-chained to the entry before it."
)
class AuditEntry:
    seq: str = strawberry.field(
        description="Position in the chain: a 64-bit integer as a decimal string, dense from 1."
    )
    occurred_at: datetime
    action: str = strawberry.field(
        description="What was done, e.g. `organisation.create`, `token.issued`, `graphql.auditLog`."
    )
    outcome: AuditOutcome  # type: ignore[valid-type]
    actor: str | None = strawberry.field(
        description="Who: `person:<id>@<org>` or `client:<id>@<org>`; null for the local operator."
    )
    person_id: strawberry.ID | None = strawberry.field(description="The person's global id.")
    client_id: str | None = strawberry.field(description="The OAuth client that acted.")
    target_kind: str | None
    target_id: str | None
    request_id: str | None = strawberry.field(
        description="The request's X-Request-ID, to find it in the logs."
    )
    detail: JSON
    prev_hash: str = strawberry.field(description="The entry_hash of the entry before (hex).")
    entry_hash: str = strawberry.field(
        description="SHA-256 (hex) over this entry's fields and prev_hash."
    )
    organisation_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, entry: models.AuditEntry) -> AuditEntry:
        return cls(
            seq=str(entry.seq),
            occurred_at=entry.occurred_at,
            action=entry.action,
            outcome=Outcome(entry.outcome),
            actor=entry.actor,
            person_id=to_global_id("Person", entry.person_id) if entry.person_id else None,
            client_id=entry.client_id,
            target_kind=entry.target_kind,
            target_id=entry.target_id,
            request_id=entry.request_id,
            detail=entry.detail,
            prev_hash=entry.prev_hash,
            entry_hash=entry.entry_hash,
            organisation_id=entry.organisation_id,
        )

    @strawberry.field(description="The organisation on whose behalf the action was taken.")
    async def organisation(self, info: Info) -> Organisation | None:
        if self.organisation_id is None:
            return None
        org = await info.context.loaders.organisation.load(self.organisation_id)
        return Organisation.from_model(org) if org else None
