from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.orgs import service
from schema.errors import Conflict, Forbidden, ValidationError
from schema.mutations import run_mutation
from schema.orgs.types import WorkingGroup
from schema.permissions import mutation_field, scopes


@strawberry.input
class CreateWorkingGroupInput:
    slug: str
    name: str
    sector: str
    charter: str = ""


@strawberry.type
class CreateWorkingGroupPayload:
    working_group: WorkingGroup


CreateWorkingGroupResult = Annotated[
    CreateWorkingGroupPayload | ValidationError | Forbidden | Conflict,
    strawberry.union("CreateWorkingGroupResult"),
]


@strawberry.type
class CreateWorkingGroup:
    @mutation_field(scopes("admin"), description="Found a sector working group.")
    async def create_working_group(
        self, info: Info, input: CreateWorkingGroupInput
    ) -> CreateWorkingGroupResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            group = await service.create_working_group(
                session,
                principal,
                service.WorkingGroupData(
                    slug=input.slug, name=input.name, sector=input.sector, charter=input.charter
                ),
            )
            return CreateWorkingGroupPayload(working_group=WorkingGroup.from_model(group))

        return await run_mutation(info, work)
