from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.types import Info

from alliance.changelog import models
from schema.orgs.types import WorkingGroup
from schema.sharing import TLP, Distribution

ChangeOperation = strawberry.enum(
    models.Operation, name="ChangeOperation", description="What a change did to its object."
)


@strawberry.type(description="One committed write of a shared object, as the change feed tells it.")
class Change:
    seq: str = strawberry.field(
        description="Position in the log: a 64-bit integer as a decimal string; later is larger."
    )
    kind: str = strawberry.field(description="The kind of object, e.g. `organisation`.")
    object_id: str
    version: int = strawberry.field(description="The object's version after the change.")
    operation: ChangeOperation  # type: ignore[valid-type]
    occurred_at: datetime
    distribution: Distribution  # type: ignore[valid-type]
    tlp: TLP  # type: ignore[valid-type]
    working_group_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, entry: models.ChangeLogEntry) -> Change:
        return cls(
            seq=str(entry.seq),
            kind=entry.kind,
            object_id=entry.object_id,
            version=entry.version,
            operation=entry.operation,
            occurred_at=entry.occurred_at,
            distribution=entry.distribution,
            tlp=entry.tlp,
            working_group_id=entry.working_group_id,
        )

    @strawberry.field(description="The working group the object is shared in, if any.")
    async def working_group(self, info: Info) -> WorkingGroup | None:
        if self.working_group_id is None:
            return None
        group = await info.context.loaders.working_group.load(self.working_group_id)
        return WorkingGroup.from_model(group) if group else None
