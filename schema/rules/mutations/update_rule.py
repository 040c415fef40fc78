from __future__ import annotations

import strawberry
from strawberry.types import Info

from alliance.rules import service
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes
from schema.relay import from_global_id
from schema.rules.inputs import RuleDefinitionInput
from schema.rules.mutations.payloads import WRITE, RulePayload, RuleResult


@strawberry.input
class UpdateRuleInput:
    rule_id: strawberry.ID
    definition: RuleDefinitionInput
    change_note: str = ""
    expected_version: int | None = strawberry.field(
        default=None, description="Refuse (Conflict) unless the rule is still at this version."
    )


@strawberry.type
class UpdateRule:
    @mutation_field(
        scopes(*WRITE),
        description=(
            "Change a rule's draft; when its latest version is active or retired, a new draft "
            "version is opened (versions in force are never changed)."
        ),
    )
    async def update_rule(self, info: Info, input: UpdateRuleInput) -> RuleResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            rule, draft = await service.update_rule(
                session,
                principal,
                from_global_id(input.rule_id, "ruleId", "Rule")[1],
                definition=input.definition.to_mapping(),
                change_note=input.change_note,
                expected_version=input.expected_version,
            )
            return RulePayload.of(rule, draft)

        return await run_mutation(info, work)
