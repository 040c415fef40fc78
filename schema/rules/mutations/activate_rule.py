from __future__ import annotations

import strawberry
from strawberry.types import Info

from alliance.rules import service
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes
from schema.relay import from_global_id
from schema.rules.mutations.payloads import WRITE, RulePayload, RuleResult


@strawberry.input
class RuleTransitionInput:
    rule_id: strawberry.ID
    expected_version: int | None = None


@strawberry.type
class ActivateRule:
    @mutation_field(
        scopes(*WRITE),
        description=(
            "Put the rule's draft in force (a chair of its working group, or an operator); "
            "the version in force before is retired."
        ),
    )
    async def activate_rule(self, info: Info, input: RuleTransitionInput) -> RuleResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            rule, version = await service.activate_rule(
                session,
                principal,
                from_global_id(input.rule_id, "ruleId", "Rule")[1],
                expected_version=input.expected_version,
            )
            return RulePayload.of(rule, version)

        return await run_mutation(info, work)
