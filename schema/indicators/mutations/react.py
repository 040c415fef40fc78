from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.errors import InvalidInput
from alliance.indicators import service
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.indicators.dataloaders import viewer
from schema.indicators.inputs import WRITE, prefixed
from schema.indicators.types import (
    IndicatorAssertion,
    IndicatorReaction,
    ReactionKind,
    TestBuyVerdict,
)
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes
from schema.relay import from_global_id
from schema.sharing import TLP, Distribution


@strawberry.input(
    description=(
        "SEEN_TOO needs platform (occurredAt, count optional); CONFIRMED_BY_TEST_BUY needs "
        "orderNumber, occurredAt (the purchase date), platform and verdict (evidenceUrl "
        "optional); DISPUTED needs reason; TAKEN_DOWN needs platformAction and occurredAt."
    )
)
class ReactInput:
    assertion_id: strawberry.ID
    kind: ReactionKind  # type: ignore[valid-type]
    platform: str | None = None
    occurred_at: datetime | None = None
    count: int | None = None
    order_number: str | None = None
    verdict: TestBuyVerdict | None = None  # type: ignore[valid-type]
    evidence_url: str | None = None
    reason: str | None = None
    platform_action: str | None = None
    distribution: Distribution | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Narrower than the assertion's, if you wish; never broader."
    )
    tlp: TLP | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Stricter than the assertion's, if you wish; never looser."
    )


@strawberry.type
class ReactPayload:
    reaction: IndicatorReaction
    assertion: IndicatorAssertion


ReactResult = Annotated[
    ReactPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("ReactResult"),
]


@strawberry.type
class React:
    @mutation_field(
        scopes(*WRITE),
        description="React to an assertion you may see: seen too, test buy, dispute, take-down…",
    )
    async def react(self, info: Info, input: ReactInput) -> ReactResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            try:
                assertion_id = from_global_id(
                    input.assertion_id, "assertionId", "IndicatorAssertion"
                )[1]
                reaction, assertion = await service.react(
                    session,
                    await viewer(info),
                    assertion_id,
                    service.ReactionData(
                        kind=input.kind,
                        platform=input.platform,
                        occurred_at=input.occurred_at,
                        count=input.count,
                        order_number=input.order_number,
                        verdict=input.verdict,
                        evidence_url=input.evidence_url,
                        reason=input.reason,
                        platform_action=input.platform_action,
                        distribution=input.distribution,
                        tlp=input.tlp,
                    ),
                    settings=info.context.settings.indicators,
                )
            except InvalidInput as exc:
                raise prefixed(exc, "input") from exc
            return ReactPayload(
                reaction=IndicatorReaction.from_model(reaction),
                assertion=IndicatorAssertion.from_model(assertion),
            )

        return await run_mutation(info, work)
