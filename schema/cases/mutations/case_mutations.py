"""openCase, addToCase, referCase, acceptCase, declineCase, closeCase, attachSalesRecords.

A case you do not take part in is NOT_FOUND, as one that does not exist."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from alliance.cases import service
from alliance.errors import InvalidInput
from schema.cases.inputs import WRITE, MoneyInput, attachment, many_ids, money, one_id, optional_id
from schema.cases.types import Case, EvidenceFile
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.indicators.dataloaders import viewer
from schema.indicators.inputs import prefixed
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes


@strawberry.type
class CasePayload:
    case: Case


CaseResult = Annotated[
    CasePayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("CaseResult"),
]


@strawberry.input
class OpenCaseInput:
    reference: str = strawberry.field(
        description="Your own reference, unique in your organisation."
    )
    title: str
    jurisdiction: str = strawberry.field(
        description="ISO 3166-1 code, optionally with a subdivision (CN-GD)."
    )
    summary: str = ""
    working_group_id: strawberry.ID | None = None
    seller_network_indicator_id: strawberry.ID | None = strawberry.field(
        default=None, description="Every indicator of the seller network around it joins the case."
    )
    indicator_ids: list[strawberry.ID] | None = None
    test_buy_ids: list[strawberry.ID] | None = None


@strawberry.input
class AddToCaseInput:
    case_id: strawberry.ID
    indicator_ids: list[strawberry.ID] | None = None
    test_buy_ids: list[strawberry.ID] | None = None
    organisation_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Organisations to take part (e.g. a platform asked for sales records); opener only.",
    )


@strawberry.input
class ReferCaseInput:
    case_id: strawberry.ID
    enforcement_organisation_id: strawberry.ID
    note: str = ""


@strawberry.input
class AcceptCaseInput:
    case_id: strawberry.ID
    note: str = ""


@strawberry.input
class DeclineCaseInput:
    case_id: strawberry.ID
    reason: str


@strawberry.input
class CaseOutcomeInput:
    suspects: int = 0
    seized_value: MoneyInput | None = None
    sites_closed: int = 0
    prosecutions: int = 0
    no_action: bool = False
    note: str = ""


@strawberry.input
class CloseCaseInput:
    case_id: strawberry.ID
    outcome: CaseOutcomeInput


@strawberry.input
class AttachSalesRecordsInput:
    case_id: strawberry.ID
    file: Upload = strawberry.field(description="The records (GraphQL multipart request spec).")
    description: str
    period_start: date
    period_end: date


@strawberry.type
class AttachSalesRecordsPayload:
    case: Case
    evidence: EvidenceFile


AttachSalesRecordsResult = Annotated[
    AttachSalesRecordsPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("AttachSalesRecordsResult"),
]


def _case_id(value: strawberry.ID) -> object:
    return one_id(value, "caseId", "Case")


async def _change_case(info: Info, change: Any) -> Any:
    """One case mutation: ``change(session, viewer, principal)`` calls the service, its input
    problems come back under ``input``, and the case as it now is."""

    async def work(session, principal):  # type: ignore[no-untyped-def]
        try:
            case = await change(session, await viewer(info), principal)
        except InvalidInput as exc:
            raise prefixed(exc, "input") from exc
        return CasePayload(case=Case.from_model(case))

    return await run_mutation(info, work)


@strawberry.type
class OpenCase:
    @mutation_field(scopes(*WRITE), description="Open a case; your organisation takes part in it.")
    async def open_case(self, info: Info, input: OpenCaseInput) -> CaseResult:
        def data() -> service.CaseData:
            return service.CaseData(
                reference=input.reference,
                title=input.title,
                jurisdiction=input.jurisdiction,
                summary=input.summary,
                working_group_id=optional_id(
                    input.working_group_id, "workingGroupId", "WorkingGroup"
                ),
                seller_network_indicator_id=optional_id(
                    input.seller_network_indicator_id, "sellerNetworkIndicatorId", "Indicator"
                ),
                indicator_ids=many_ids(input.indicator_ids, "indicatorIds", "Indicator"),
                test_buy_ids=many_ids(input.test_buy_ids, "testBuyIds", "TestBuy"),
            )

        return await _change_case(
            info,
            lambda session, who, principal: service.open_case(
                session, who, data(), actor=principal.actor
            ),
        )


@strawberry.type
class AddToCase:
    @mutation_field(
        scopes(*WRITE),
        description="Add indicators and test buys you see to a case you take part in (the opener also adds organisations).",
    )
    async def add_to_case(self, info: Info, input: AddToCaseInput) -> CaseResult:
        async def add(session, who, principal):  # type: ignore[no-untyped-def]
            change = await service.add_to_case(
                session,
                who,
                _case_id(input.case_id),
                indicator_ids=many_ids(input.indicator_ids, "indicatorIds", "Indicator"),
                test_buy_ids=many_ids(input.test_buy_ids, "testBuyIds", "TestBuy"),
                organisation_ids=many_ids(
                    input.organisation_ids, "organisationIds", "Organisation"
                ),
                actor=principal.actor,
            )
            return change.case

        return await _change_case(info, add)


@strawberry.type
class ReferCase:
    @mutation_field(
        scopes(*WRITE), description="Refer your open case to an enforcement organisation."
    )
    async def refer_case(self, info: Info, input: ReferCaseInput) -> CaseResult:
        return await _change_case(
            info,
            lambda session, who, principal: service.refer_case(
                session,
                who,
                _case_id(input.case_id),
                one_id(
                    input.enforcement_organisation_id, "enforcementOrganisationId", "Organisation"
                ),
                note=input.note,
                actor=principal.actor,
            ),
        )


@strawberry.type
class AcceptCase:
    @mutation_field(scopes(*WRITE), description="Accept a case referred to your organisation.")
    async def accept_case(self, info: Info, input: AcceptCaseInput) -> CaseResult:
        return await _change_case(
            info,
            lambda session, who, principal: service.accept_case(
                session, who, _case_id(input.case_id), note=input.note, actor=principal.actor
            ),
        )


@strawberry.type
class DeclineCase:
    @mutation_field(
        scopes(*WRITE), description="Decline a case referred to your organisation, with a reason."
    )
    async def decline_case(self, info: Info, input: DeclineCaseInput) -> CaseResult:
        return await _change_case(
            info,
            lambda session, who, principal: service.decline_case(
                session, who, _case_id(input.case_id), reason=input.reason, actor=principal.actor
            ),
        )


@strawberry.type
class CloseCase:
    @mutation_field(
        scopes(*WRITE),
        description="Close a case with its outcome (enforcement), or withdraw one nobody accepted (opener).",
    )
    async def close_case(self, info: Info, input: CloseCaseInput) -> CaseResult:
        def outcome() -> service.Outcome:
            o = input.outcome
            return service.Outcome(
                suspects=o.suspects,
                seized_value=money(o.seized_value),
                sites_closed=o.sites_closed,
                prosecutions=o.prosecutions,
                no_action=o.no_action,
                note=o.note,
            )

        return await _change_case(
            info,
            lambda session, who, principal: service.close_case(
                session, who, _case_id(input.case_id), outcome(), actor=principal.actor
            ),
        )


@strawberry.type
class AttachSalesRecords:
    @mutation_field(
        scopes(*WRITE),
        description="Attach your platform's sales records (a file, its description and period) to a case you take part in.",
    )
    async def attach_sales_records(
        self, info: Info, input: AttachSalesRecordsInput
    ) -> AttachSalesRecordsResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            try:
                case_id = one_id(input.case_id, "caseId", "Case")
                # Who may attach is checked before anything is stored.
                await service.check_sales_records_allowed(session, await viewer(info), case_id)
                file = await attachment(
                    info, input.file, "file", "SALES_RECORDS", input.description
                )
                evidence = await service.attach_sales_records(
                    session,
                    await viewer(info),
                    case_id,
                    file,
                    period_start=input.period_start,
                    period_end=input.period_end,
                    actor=principal.actor,
                )
            except InvalidInput as exc:
                raise prefixed(exc, "input") from exc
            case = await service.case_of_participant(session, await viewer(info), case_id)
            return AttachSalesRecordsPayload(
                case=Case.from_model(case), evidence=EvidenceFile.from_model(evidence)
            )

        return await run_mutation(info, work)
