from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.errors import InvalidInput
from alliance.indicators import service
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.indicators.dataloaders import viewer
from schema.indicators.inputs import WRITE, prefixed
from schema.indicators.mutations.payloads import ProposalPayload
from schema.indicators.types import IndicatorProposal
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes
from schema.relay import from_global_id


@strawberry.input
class RejectProposalInput:
    proposal_id: strawberry.ID
    reason: str


RejectProposalResult = Annotated[
    ProposalPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("RejectProposalResult"),
]


@strawberry.type
class RejectProposal:
    @mutation_field(
        scopes(*WRITE),
        description="Reject a correction proposed to your assertion, saying why.",
    )
    async def reject_proposal(self, info: Info, input: RejectProposalInput) -> RejectProposalResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            try:
                proposal_id = from_global_id(input.proposal_id, "proposalId", "IndicatorProposal")[
                    1
                ]
                proposal = await service.reject_proposal(
                    session, await viewer(info), proposal_id, reason=input.reason
                )
            except InvalidInput as exc:
                raise prefixed(exc, "input") from exc
            return ProposalPayload(proposal=IndicatorProposal.from_model(proposal))

        return await run_mutation(info, work)
