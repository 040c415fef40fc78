"""``createImageIndicatorFromBlob``: a photo of a fake becomes an image indicator."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.blobs import service
from alliance.errors import InvalidInput
from alliance.indicators.service import Submission
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.indicators.dataloaders import viewer
from schema.indicators.inputs import WRITE, optional_id, prefixed
from schema.indicators.mutations.payloads import relocated
from schema.indicators.types import Indicator, IndicatorAssertion, Severity
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes
from schema.relay import from_global_id
from schema.sharing import TLP, Distribution

ImageHashType = strawberry.enum(
    service.ImageHashType,
    description="PHASH (64-bit pHash) or PDQ (256-bit, with its quality).",
)


@strawberry.input(description="Which photo, which of its hashes, and what you assert about it.")
class CreateImageIndicatorFromBlobInput:
    blob_id: strawberry.ID
    hash_type: ImageHashType = service.ImageHashType.PDQ  # type: ignore[valid-type]
    working_group_id: strawberry.ID | None = None
    distribution: Distribution = Distribution.WORKING_GROUP  # type: ignore[valid-type]
    tlp: TLP = TLP.AMBER  # type: ignore[valid-type]
    confidence: int = strawberry.field(default=50, description="0–100.")
    severity: Severity = Severity.MEDIUM  # type: ignore[valid-type]
    brands: list[str] | None = None
    product_category: str | None = strawberry.field(
        default=None, description="A product taxonomy id."
    )
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    note: str = ""
    tags: list[str] | None = None
    evidence_links: list[str] | None = None
    group_key: str | None = None


@strawberry.type
class CreateImageIndicatorFromBlobPayload:
    indicator: Indicator
    assertion: IndicatorAssertion
    created: bool = strawberry.field(
        description="A new assertion (false: your existing assertion was updated)."
    )


CreateImageIndicatorFromBlobResult = Annotated[
    CreateImageIndicatorFromBlobPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("CreateImageIndicatorFromBlobResult"),
]


def _submission(input: CreateImageIndicatorFromBlobInput) -> Submission:
    return Submission(
        type="image_pdq",  # replaced by the service with the blob's own hash
        value="",
        working_group_id=optional_id(input.working_group_id, "workingGroupId", "WorkingGroup"),
        distribution=input.distribution,
        tlp=input.tlp,
        confidence=input.confidence,
        severity=input.severity,
        brands=tuple(input.brands or ()),
        product_category=input.product_category,
        valid_from=input.valid_from,
        valid_until=input.valid_until,
        note=input.note,
        tags=tuple(input.tags or ()),
        evidence_links=tuple(input.evidence_links or ()),
        group_key=input.group_key,
    )


@strawberry.type
class CreateImageIndicatorFromBlob:
    @mutation_field(
        scopes(*WRITE),
        description=(
            "Assert the pHash or PDQ hash of a photo you may read as an image indicator, in one "
            "step: the same as submitIndicator with the photo's hash as the value."
        ),
    )
    async def create_image_indicator_from_blob(
        self, info: Info, input: CreateImageIndicatorFromBlobInput
    ) -> CreateImageIndicatorFromBlobResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            try:
                blob_id = from_global_id(input.blob_id, "blobId", "Blob")[1]
                submission = _submission(input)
                result = await service.submit_image_indicator(
                    session,
                    await viewer(info),
                    blob_id,
                    service.ImageHashType(input.hash_type.value),
                    submission,
                    settings=info.context.settings,
                )
            except InvalidInput as exc:
                raise prefixed(exc, "input") from exc
            if result.error is not None:
                raise relocated(result.error, "input")
            return CreateImageIndicatorFromBlobPayload(
                indicator=Indicator.from_model(result.indicator),
                assertion=IndicatorAssertion.from_model(result.assertion),
                created=result.created,
            )

        return await run_mutation(info, work)
