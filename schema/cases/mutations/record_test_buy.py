from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.cases import service
from alliance.errors import FieldProblem, InvalidInput
from schema.cases.inputs import (
    WRITE,
    EvidenceUploadInput,
    MoneyInput,
    attachment,
    many_ids,
    money,
    optional_id,
)
from schema.cases.types import TestBuy
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.indicators.dataloaders import viewer
from schema.indicators.inputs import prefixed
from schema.indicators.types import TestBuyVerdict
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes
from schema.sharing import TLP, Distribution


@strawberry.input(description="A test buy: who bought what where, what arrived, and the verdict.")
class RecordTestBuyInput:
    purchased_at: datetime
    platform: str
    seller: str = strawberry.field(description="The seller's account, shop name or URL.")
    order_number: str
    verdict: TestBuyVerdict  # type: ignore[valid-type]
    working_group_id: strawberry.ID | None = None
    distribution: Distribution = Distribution.WORKING_GROUP  # type: ignore[valid-type]
    tlp: TLP = TLP.AMBER  # type: ignore[valid-type]
    buyer_person_id: strawberry.ID | None = None
    buyer_name: str | None = None
    listing_url: str | None = None
    price: MoneyInput | None = None
    shipping_address: str | None = None
    return_address: str | None = None
    waybill: str | None = None
    guide_reference: str | None = strawberry.field(
        default=None, description="The identification guide the item was judged against."
    )
    features_checked: list[str] | None = None
    note: str = ""
    confirms_assertion_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Indicator assertions the buy confirms: each gets a CONFIRMED_BY_TEST_BUY reaction.",
    )
    attachments: list[EvidenceUploadInput] | None = strawberry.field(
        default=None, description="Receipts, screenshots, photos (any type, size-limited)."
    )


@strawberry.type
class RecordTestBuyPayload:
    test_buy: TestBuy


RecordTestBuyResult = Annotated[
    RecordTestBuyPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("RecordTestBuyResult"),
]


@strawberry.type
class RecordTestBuy:
    @mutation_field(scopes(*WRITE), description="Record a test buy of your organisation.")
    async def record_test_buy(self, info: Info, input: RecordTestBuyInput) -> RecordTestBuyResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            try:
                uploads = input.attachments or []
                if len(uploads) > service.MAX_ATTACHMENTS:
                    raise InvalidInput(
                        [
                            FieldProblem(
                                ("attachments",),
                                "TOO_MANY",
                                f"at most {service.MAX_ATTACHMENTS} files",
                            )
                        ]
                    )
                files = [
                    await attachment(info, u.file, f"attachments.{i}.file", u.kind, u.description)
                    for i, u in enumerate(uploads)
                ]
                buy = await service.record_test_buy(
                    session,
                    await viewer(info),
                    service.TestBuyData(
                        purchased_at=input.purchased_at,
                        platform=input.platform,
                        seller=input.seller,
                        order_number=input.order_number,
                        verdict=input.verdict.value,
                        working_group_id=optional_id(
                            input.working_group_id, "workingGroupId", "WorkingGroup"
                        ),
                        distribution=input.distribution.value,
                        tlp=input.tlp.value,
                        buyer_person_id=optional_id(
                            input.buyer_person_id, "buyerPersonId", "Person"
                        ),
                        buyer_name=input.buyer_name,
                        listing_url=input.listing_url,
                        price=money(input.price),
                        shipping_address=input.shipping_address,
                        return_address=input.return_address,
                        waybill=input.waybill,
                        guide_reference=input.guide_reference,
                        features_checked=tuple(input.features_checked or ()),
                        note=input.note,
                        confirms_assertion_ids=many_ids(
                            input.confirms_assertion_ids,
                            "confirmsAssertionIds",
                            "IndicatorAssertion",
                        ),
                        attachments=files,
                    ),
                    actor=principal.actor,
                    settings=info.context.settings.indicators,
                )
            except InvalidInput as exc:
                raise prefixed(exc, "input") from exc
            return RecordTestBuyPayload(test_buy=TestBuy.from_model(buy))

        return await run_mutation(info, work)
