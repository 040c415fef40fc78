from __future__ import annotations

import strawberry
from strawberry.types import Info

from alliance.rules import service
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes
from schema.relay import from_global_id
from schema.rules.mutations.activate_rule import RuleTransitionInput
from schema.rules.mutations.payloads import WRITE, RulePayload, RuleResult


@strawberry.type
class RetireRule:
    @mutation_field(
        scopes(*WRITE),
        description="Take an active rule out of force (a chair of its group, or an operator).",
    )
    async def retire_rule(self, info: Info, input: RuleTransitionInput) -> RuleResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            rule = await service.retire_rule(
                session,
                principal,
                from_global_id(input.rule_id, "ruleId", "Rule")[1],
                expected_version=input.expected_version,
            )
            return RulePayload.of(rule)

        return await run_mutation(info, work)
