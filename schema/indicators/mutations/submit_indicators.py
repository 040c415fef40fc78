from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.errors import DomainError, FieldProblem, InvalidInput
from alliance.indicators import service
from schema.errors import Conflict, Forbidden, ValidationError, to_error
from schema.indicators.dataloaders import viewer
from schema.indicators.inputs import WRITE, SubmitIndicatorInput, prefixed, to_submission
from schema.indicators.mutations.payloads import relocated
from schema.indicators.types import Indicator, IndicatorAssertion
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes

SubmitIndicatorsItemError = Annotated[
    ValidationError | Forbidden | Conflict, strawberry.union("SubmitIndicatorsItemError")
]


@strawberry.input
class SubmitIndicatorsInput:
    items: list[SubmitIndicatorInput] = strawberry.field(description="At most 1,000.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description=(
            "Sending the same batch again under the same key returns the first outcome and "
            "writes nothing; a different batch under a used key is a Conflict."
        ),
    )


@strawberry.type(description="The outcome of one item: its assertion, or why it was refused.")
class SubmitIndicatorsItem:
    index: int
    indicator: Indicator | None
    assertion: IndicatorAssertion | None
    created: bool
    error: SubmitIndicatorsItemError | None = strawberry.field(
        description="Why this item was refused (paths start at `input.items.<index>`)."
    )


@strawberry.type
class SubmitIndicatorsPayload:
    results: list[SubmitIndicatorsItem]
    accepted: int
    refused: int


SubmitIndicatorsResult = Annotated[
    SubmitIndicatorsPayload | ValidationError | Forbidden | Conflict,
    strawberry.union("SubmitIndicatorsResult"),
]


def _item(result: service.ItemResult) -> SubmitIndicatorsItem:
    error = (
        to_error(relocated(result.error, "input", "items", str(result.index)))
        if result.error is not None
        else None
    )
    return SubmitIndicatorsItem(
        index=result.index,
        indicator=Indicator.from_model(result.indicator) if result.indicator else None,
        assertion=IndicatorAssertion.from_model(result.assertion) if result.assertion else None,
        created=result.created,
        error=error,  # type: ignore[arg-type]
    )


@strawberry.type
class SubmitIndicators:
    @mutation_field(
        scopes(*WRITE),
        description=(
            "Submit up to 1,000 indicators at once: a result per item, in order. Refused items "
            "write nothing; the others are written."
        ),
    )
    async def submit_indicators(
        self, info: Info, input: SubmitIndicatorsInput
    ) -> SubmitIndicatorsResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            settings = info.context.settings.indicators
            if len(input.items) > settings.max_batch_size:
                raise InvalidInput(
                    [
                        FieldProblem(
                            ("input", "items"),
                            "TOO_MANY",
                            f"at most {settings.max_batch_size} items",
                        )
                    ]
                )
            submissions: list[service.Submission] = []
            early: dict[int, DomainError] = {}
            for index, item in enumerate(input.items):
                try:
                    submissions.append(to_submission(item))
                except InvalidInput as exc:
                    early[index] = prefixed(exc)
                    # Keep positions: a placeholder the service refuses on its own.
                    submissions.append(service.Submission(type="", value=""))
            try:
                results = await service.submit(
                    session,
                    await viewer(info),
                    submissions,
                    idempotency_key=input.idempotency_key,
                    settings=settings,
                )
            except InvalidInput as exc:
                raise prefixed(exc, "input") from exc
            results = [
                service.ItemResult(r.index, error=early[r.index]) if r.index in early else r
                for r in results
            ]
            return SubmitIndicatorsPayload(
                results=[_item(r) for r in results],
                accepted=sum(1 for r in results if r.error is None),
                refused=sum(1 for r in results if r.error is not None),
            )

        return await run_mutation(info, work)
