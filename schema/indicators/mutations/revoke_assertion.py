from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.errors import InvalidInput
from alliance.indicators import service
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.indicators.dataloaders import viewer
from schema.indicators.inputs import WRITE, prefixed
from schema.indicators.types import IndicatorAssertion, RevocationReason
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes
from schema.relay import from_global_id


@strawberry.input
class RevokeAssertionInput:
    assertion_id: strawberry.ID
    reason: RevocationReason  # type: ignore[valid-type]
    note: str | None = None


@strawberry.type
class RevokeAssertionPayload:
    assertion: IndicatorAssertion


RevokeAssertionResult = Annotated[
    RevokeAssertionPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("RevokeAssertionResult"),
]


@strawberry.type
class RevokeAssertion:
    @mutation_field(
        scopes(*WRITE),
        description=(
            "Withdraw your organisation's assertion, with a reason. Nothing is deleted: the "
            "assertion stays, REVOKED, and the change log carries a REVOKE tombstone."
        ),
    )
    async def revoke_assertion(
        self, info: Info, input: RevokeAssertionInput
    ) -> RevokeAssertionResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            try:
                assertion = await service.revoke(
                    session,
                    await viewer(info),
                    from_global_id(input.assertion_id, "assertionId", "IndicatorAssertion")[1],
                    reason=input.reason,
                    note=input.note,
                )
            except InvalidInput as exc:
                raise prefixed(exc, "input") from exc
            return RevokeAssertionPayload(assertion=IndicatorAssertion.from_model(assertion))

        return await run_mutation(info, work)
