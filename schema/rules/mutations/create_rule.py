from __future__ import annotations

import strawberry
from strawberry.types import Info

from alliance.rules import service
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes
from schema.relay import from_global_id
from schema.rules.inputs import RuleDefinitionInput
from schema.rules.mutations.payloads import WRITE, RulePayload, RuleResult
from schema.sharing import TLP, Distribution


@strawberry.input
class CreateRuleInput:
    working_group_id: strawberry.ID = strawberry.field(description="The proposing group.")
    definition: RuleDefinitionInput
    distribution: Distribution = Distribution.ALLIANCE  # type: ignore[valid-type]
    tlp: TLP = TLP.GREEN  # type: ignore[valid-type]
    change_note: str = ""


@strawberry.type
class CreateRule:
    @mutation_field(
        scopes(*WRITE),
        description="Propose a rule in a working group you chair or belong to (draft version 1).",
    )
    async def create_rule(self, info: Info, input: CreateRuleInput) -> RuleResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            group = from_global_id(input.working_group_id, "workingGroupId", "WorkingGroup")[1]
            rule, draft = await service.create_rule(
                session,
                principal,
                working_group_id=group,
                definition=input.definition.to_mapping(),
                distribution=input.distribution,
                tlp=input.tlp,
                change_note=input.change_note,
            )
            return RulePayload.of(rule, draft)

        return await run_mutation(info, work)
