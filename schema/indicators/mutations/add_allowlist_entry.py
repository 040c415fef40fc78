from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.errors import InvalidInput
from alliance.indicators import service
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.indicators.dataloaders import viewer
from schema.indicators.inputs import WRITE, IndicatorPartInput, optional_id, parts_of, prefixed
from schema.indicators.types import AllowlistEntry, AllowlistKind, IndicatorType
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes
from schema.sharing import TLP, Distribution


@strawberry.input
class AddAllowlistEntryInput:
    kind: AllowlistKind  # type: ignore[valid-type]
    type: IndicatorType  # type: ignore[valid-type]
    value: str
    brand: str
    label: str = strawberry.field(description="What the entry is, e.g. 'Acme official store'.")
    country: str | None = None
    parts: list[IndicatorPartInput] | None = None
    note: str = ""
    working_group_id: strawberry.ID | None = None
    distribution: Distribution = Distribution.ALLIANCE  # type: ignore[valid-type]
    tlp: TLP = TLP.GREEN  # type: ignore[valid-type]


@strawberry.type
class AllowlistEntryPayload:
    entry: AllowlistEntry


AddAllowlistEntryResult = Annotated[
    AllowlistEntryPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("AddAllowlistEntryResult"),
]


@strawberry.type
class AddAllowlistEntry:
    @mutation_field(
        scopes(*WRITE),
        description=(
            "Register an official store, authorised distributor or official product image of a "
            "brand: submitting that value as an indicator is refused from then on."
        ),
    )
    async def add_allowlist_entry(
        self, info: Info, input: AddAllowlistEntryInput
    ) -> AddAllowlistEntryResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            try:
                entry = await service.add_allowlist_entry(
                    session,
                    await viewer(info),
                    service.AllowlistData(
                        kind=input.kind,
                        type=input.type.value,
                        value=input.value,
                        brand=input.brand,
                        label=input.label,
                        country=input.country,
                        parts=parts_of(input.parts),
                        note=input.note,
                        working_group_id=optional_id(
                            input.working_group_id, "workingGroupId", "WorkingGroup"
                        ),
                        distribution=input.distribution,
                        tlp=input.tlp,
                    ),
                )
            except InvalidInput as exc:
                raise prefixed(exc, "input") from exc
            return AllowlistEntryPayload(entry=AllowlistEntry.from_model(entry))

        return await run_mutation(info, work)
