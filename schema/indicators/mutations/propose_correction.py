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
from schema.indicators.mutations.payloads import ProposalPayload
from schema.indicators.types import IndicatorProposal, Severity
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes
from schema.relay import from_global_id


@strawberry.input(description="The fields to change; leave the others out.")
class CorrectionInput:
    confidence: int | None = None
    severity: Severity | None = None  # type: ignore[valid-type]
    brands: list[str] | None = None
    product_category: str | None = None
    valid_until: datetime | None = None
    note: str | None = None
    tags: list[str] | None = None


@strawberry.input
class ProposeCorrectionInput:
    assertion_id: strawberry.ID
    changes: CorrectionInput
    reason: str


ProposeCorrectionResult = Annotated[
    ProposalPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("ProposeCorrectionResult"),
]


@strawberry.type
class ProposeCorrection:
    @mutation_field(
        scopes(*WRITE),
        description=(
            "Propose a correction to another organisation's assertion; its owner accepts or "
            "rejects it, and both see the outcome."
        ),
    )
    async def propose_correction(
        self, info: Info, input: ProposeCorrectionInput
    ) -> ProposeCorrectionResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            c = input.changes
            try:
                proposal = await service.propose(
                    session,
                    await viewer(info),
                    from_global_id(input.assertion_id, "assertionId", "IndicatorAssertion")[1],
                    service.Correction(
                        confidence=c.confidence,
                        severity=c.severity,
                        brands=c.brands,
                        product_category=c.product_category,
                        valid_until=c.valid_until,
                        note=c.note,
                        tags=c.tags,
                    ),
                    reason=input.reason,
                )
            except InvalidInput as exc:
                raise prefixed(exc, "input") from exc
            return ProposalPayload(proposal=IndicatorProposal.from_model(proposal))

        return await run_mutation(info, work)
