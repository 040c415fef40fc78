from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.errors import InvalidInput
from alliance.indicators import service
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.indicators.dataloaders import viewer
from schema.indicators.inputs import WRITE, SubmitIndicatorInput, prefixed, to_submission
from schema.indicators.mutations.payloads import relocated
from schema.indicators.types import Indicator, IndicatorAssertion
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes


@strawberry.type
class SubmitIndicatorPayload:
    indicator: Indicator
    assertion: IndicatorAssertion
    created: bool = strawberry.field(
        description="A new assertion (false: your existing assertion was updated)."
    )


SubmitIndicatorResult = Annotated[
    SubmitIndicatorPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("SubmitIndicatorResult"),
]


@strawberry.type
class SubmitIndicator:
    @mutation_field(
        scopes(*WRITE),
        description=(
            "Submit an indicator in any form: it is normalised to its one canonical indicator, "
            "and your organisation's assertion on it (in that working group) is made or updated."
        ),
    )
    async def submit_indicator(
        self, info: Info, input: SubmitIndicatorInput
    ) -> SubmitIndicatorResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            try:
                submission = to_submission(input)
            except InvalidInput as exc:
                raise prefixed(exc, "input") from exc
            [result] = await service.submit(
                session,
                await viewer(info),
                [submission],
                settings=info.context.settings.indicators,
            )
            if result.error is not None:
                raise relocated(result.error, "input")
            return SubmitIndicatorPayload(
                indicator=Indicator.from_model(result.indicator),
                assertion=IndicatorAssertion.from_model(result.assertion),
                created=result.created,
            )

        return await run_mutation(info, work)
