from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.types import Info

from alliance.changelog import models
from alliance.sharing.policy import FeedView
from schema.orgs.types import WorkingGroup
from schema.relay import encode_cursor
from schema.sharing import TLP, Distribution

ChangeOperation = strawberry.enum(
    models.Operation, name="ChangeOperation", description="What a change did to its object."
)


@strawberry.type(
    description=(
        "One committed write of a shared object, as the change feed tells it. An entry whose "
        "operation is REMOVE means: drop your copy of that object (you could see it before "
        "and cannot now); it carries only kind, objectId, version, seq and reason, and null "
        "distribution, tlp and workingGroup."
    )
)
class Change:
    seq: str = strawberry.field(
        description="Position in the log: a 64-bit integer as a decimal string; later is larger."
    )
    kind: str = strawberry.field(description="The kind of object, e.g. `organisation`.")
    object_id: str
    version: int = strawberry.field(description="The object's version after the change.")
    operation: ChangeOperation  # type: ignore[valid-type]
    occurred_at: datetime
    distribution: Distribution | None = strawberry.field(  # type: ignore[valid-type]
        description="Who may see the object now; null on a REMOVE entry."
    )
    tlp: TLP | None = strawberry.field(  # type: ignore[valid-type]
        description="The object's marking now; null on a REMOVE entry."
    )
    reason: str | None = strawberry.field(
        description=(
            "Why the object was revoked, deleted or removed: a revocation's reason (e.g. "
            "FALSE_POSITIVE, TAKEN_DOWN, AUTHORISED_RESELLER, EXPIRED), SEAT_ENDED when your "
            "organisation's seat in its working group ended, VISIBILITY_LOWERED when it is no "
            "longer shared with you; null otherwise."
        )
    )
    working_group_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, entry: models.ChangeLogEntry, view: FeedView = FeedView.CHANGE) -> Change:
        """``view``: how the entry reaches the caller (``alliance.changelog.service.as_seen_by``).
        A removal tells nothing of the object's new visibility."""
        if view == FeedView.REMOVAL:
            return cls(
                seq=str(entry.seq),
                kind=entry.kind,
                object_id=entry.object_id,
                version=entry.version,
                operation=models.Operation.REMOVE,
                occurred_at=entry.occurred_at,
                distribution=None,
                tlp=None,
                reason=entry.reason if entry.audience_org_id else models.VISIBILITY_LOWERED,
                working_group_id=None,
            )
        return cls(
            seq=str(entry.seq),
            kind=entry.kind,
            object_id=entry.object_id,
            version=entry.version,
            operation=entry.operation,
            occurred_at=entry.occurred_at,
            distribution=entry.distribution,
            tlp=entry.tlp,
            reason=entry.reason,
            working_group_id=entry.working_group_id,
        )

    @strawberry.field(
        description=(
            "Resume the feed after this change: `changes(after:)`, `changeStream(after:)` and "
            "`GET /v1/changes?after=` take it (the same as this change's edge cursor)."
        )
    )
    def cursor(self) -> str:
        return encode_cursor(self.seq)

    @strawberry.field(description="The working group the object is shared in, if any.")
    async def working_group(self, info: Info) -> WorkingGroup | None:
        if self.working_group_id is None:
            return None
        group = await info.context.loaders.working_group.load(self.working_group_id)
        return WorkingGroup.from_model(group) if group else None
