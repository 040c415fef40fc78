from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.errors import InvalidInput
from alliance.indicators import service
from schema.errors import Forbidden, NotFound, ValidationError
from schema.indicators.dataloaders import viewer
from schema.indicators.inputs import WRITE, prefixed
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes
from schema.relay import from_global_id


@strawberry.input
class RemoveAllowlistEntryInput:
    entry_id: strawberry.ID


@strawberry.type
class RemoveAllowlistEntryPayload:
    removed_entry_id: strawberry.ID


RemoveAllowlistEntryResult = Annotated[
    RemoveAllowlistEntryPayload | ValidationError | NotFound | Forbidden,
    strawberry.union("RemoveAllowlistEntryResult"),
]


@strawberry.type
class RemoveAllowlistEntry:
    @mutation_field(
        scopes(*WRITE),
        description="Remove one of your allowlist entries (the change log keeps a DELETE row).",
    )
    async def remove_allowlist_entry(
        self, info: Info, input: RemoveAllowlistEntryInput
    ) -> RemoveAllowlistEntryResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            try:
                await service.remove_allowlist_entry(
                    session,
                    await viewer(info),
                    from_global_id(input.entry_id, "entryId", "AllowlistEntry")[1],
                )
            except InvalidInput as exc:
                raise prefixed(exc, "input") from exc
            return RemoveAllowlistEntryPayload(removed_entry_id=input.entry_id)

        return await run_mutation(info, work)
