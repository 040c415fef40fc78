"""The guide mutations: each translates its input, calls one service, builds the payload."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from alliance.guides import service
from alliance.guides.models import GuideStatus as StatusModel
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.guides.inputs import GuideContentInput, SectionTranslationInput
from schema.guides.queries import reader
from schema.guides.types import Guide, GuideNotification
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes
from schema.relay import from_global_id
from schema.sharing import TLP, Distribution

WRITE = scopes("guides:write", "admin")
REVIEW = scopes("guides:review", "admin")
PUBLISH = scopes("guides:publish", "admin")
READ = scopes("guides:read", "guides:write", "guides:review", "guides:publish", "admin")
MAX_UPLOAD_READ = 64 << 20  # the blob store applies its own (smaller) limit


@strawberry.type
class GuidePayload:
    guide: Guide | None = strawberry.field(
        description="The guide after the change (its draft while one is pending)."
    )


@strawberry.type
class GuideNotificationPayload:
    notification: GuideNotification


GuideNotificationResult = Annotated[
    GuideNotificationPayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("GuideNotificationResult"),
]

GuideResult = Annotated[
    GuidePayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("GuideResult"),
]


async def _payload(info: Info, session: Any, guide_id: Any) -> GuidePayload:
    info.context._guide_reader = None
    who = await reader(info)
    guide = await session.get(service.Guide, guide_id)
    pending = guide is not None and guide.status not in (
        StatusModel.PUBLISHED,
        StatusModel.ARCHIVED,
    )
    view = await service.read_guide(session, who, guide_id, draft=pending)
    return GuidePayload(guide=Guide.from_view(view) if view else None)


def _id(value: strawberry.ID, name: str = "guideId") -> Any:
    return from_global_id(value, name, "Guide")[1]


@strawberry.input
class CreateGuideInput:
    working_group_id: strawberry.ID
    content: GuideContentInput
    source_language: str = "en"
    distribution: Distribution = Distribution.WORKING_GROUP  # type: ignore[valid-type]
    tlp: TLP = TLP.AMBER  # type: ignore[valid-type]
    review_by: date | None = None


@strawberry.input
class UpdateGuideDraftInput:
    guide_id: strawberry.ID
    content: GuideContentInput
    review_by: date | None = None
    expected_version: int | None = None


@strawberry.input
class GuideTransitionInput:
    guide_id: strawberry.ID
    expected_version: int | None = None
    note: str = ""


@strawberry.input
class AddGuidePhotoInput:
    guide_id: strawberry.ID
    feature_id: str
    file: Upload
    caption: str = ""


@strawberry.input
class TranslateGuideInput:
    guide_id: strawberry.ID
    language: str
    sections: list[SectionTranslationInput]


SECTION_NAMES = {"priceGuidance": "price_guidance", "testBuyNotes": "test_buy_notes"}


@strawberry.type
class GuideMutations:
    @mutation_field(WRITE, description="Write a new guide in a working group (a draft).")
    async def create_guide(self, info: Info, input: CreateGuideInput) -> GuideResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            guide = await service.create_guide(
                session,
                principal,
                working_group_id=from_global_id(
                    input.working_group_id, "workingGroupId", "WorkingGroup"
                )[1],
                content=input.content.to_mapping(),
                source_language=input.source_language,
                distribution=input.distribution,
                tlp=input.tlp,
                review_by=input.review_by,
            )
            return await _payload(info, session, guide.id)

        return await run_mutation(info, work)

    @mutation_field(
        WRITE, description="Replace the draft's content (a published guide gets a new draft)."
    )
    async def update_guide_draft(self, info: Info, input: UpdateGuideDraftInput) -> GuideResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            guide = await service.update_draft(
                session,
                principal,
                _id(input.guide_id),
                content=input.content.to_mapping(),
                review_by=input.review_by,
                expected_version=input.expected_version,
            )
            return await _payload(info, session, guide.id)

        return await run_mutation(info, work)

    @mutation_field(
        WRITE,
        description=(
            "Attach a photo (JPEG, PNG, WebP, GIF or PDF, sniffed from its bytes) to a feature "
            "of the draft; a refused file stores nothing."
        ),
    )
    async def add_guide_photo(self, info: Info, input: AddGuidePhotoInput) -> GuideResult:
        data = await input.file.read(MAX_UPLOAD_READ + 1)  # type: ignore[attr-defined]
        filename = getattr(input.file, "filename", None) or "upload"

        async def work(session, principal):  # type: ignore[no-untyped-def]
            photo = await service.add_photo(
                session,
                principal,
                _id(input.guide_id),
                feature_id=input.feature_id,
                filename=filename,
                data=data,
                caption=input.caption,
                settings=info.context.settings,
            )
            return await _payload(info, session, photo.guide_id)

        return await run_mutation(info, work)

    @mutation_field(WRITE, description="Detach a photo from its feature.")
    async def remove_guide_photo(self, info: Info, photo_id: strawberry.ID) -> GuideResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            guide = await service.remove_photo(
                session, principal, from_global_id(photo_id, "photoId", "GuidePhoto")[1]
            )
            return await _payload(info, session, guide.id)

        return await run_mutation(info, work)

    @mutation_field(WRITE, description="Send the draft to review.")
    async def submit_guide_for_review(self, info: Info, input: GuideTransitionInput) -> GuideResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            guide = await service.submit_for_review(
                session, principal, _id(input.guide_id), expected_version=input.expected_version
            )
            return await _payload(info, session, guide.id)

        return await run_mutation(info, work)

    @mutation_field(
        REVIEW,
        description=(
            "Approve the draft in review: a different person from its submitter, holding "
            "guides:review and a seat in the guide's working group."
        ),
    )
    async def approve_guide(self, info: Info, input: GuideTransitionInput) -> GuideResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            guide = await service.approve(
                session,
                principal,
                _id(input.guide_id),
                note=input.note,
                expected_version=input.expected_version,
            )
            return await _payload(info, session, guide.id)

        return await run_mutation(info, work)

    @mutation_field(
        REVIEW, description="Send the draft in review back to its authors, with a note."
    )
    async def request_guide_changes(self, info: Info, input: GuideTransitionInput) -> GuideResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            guide = await service.request_changes(
                session,
                principal,
                _id(input.guide_id),
                note=input.note,
                expected_version=input.expected_version,
            )
            return await _payload(info, session, guide.id)

        return await run_mutation(info, work)

    @mutation_field(
        PUBLISH,
        description=(
            "Publish the approved draft as a new immutable version; its overt counterfeit tells "
            "become indicators, and subscribers are notified."
        ),
    )
    async def publish_guide(self, info: Info, input: GuideTransitionInput) -> GuideResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            guide, _ = await service.publish(
                session, principal, _id(input.guide_id), expected_version=input.expected_version
            )
            return await _payload(info, session, guide.id)

        return await run_mutation(info, work)

    @mutation_field(
        PUBLISH, description="Withdraw the guide; the indicators its tells made are revoked."
    )
    async def archive_guide(self, info: Info, input: GuideTransitionInput) -> GuideResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            guide = await service.archive(
                session, principal, _id(input.guide_id), expected_version=input.expected_version
            )
            return await _payload(info, session, guide.id)

        return await run_mutation(info, work)

    @mutation_field(
        WRITE,
        description=(
            "Translate sections into a language; each remembers the source it was made from "
            "and reads OUTDATED once that source changes."
        ),
    )
    async def translate_guide(self, info: Info, input: TranslateGuideInput) -> GuideResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            sections: dict[str, dict[str, str]] = {}
            for s in input.sections[:201]:
                key = SECTION_NAMES.get(s.section, s.section)
                parts = {"text": s.text}
                if s.title is not None:
                    parts["title"] = s.title
                sections[key] = parts
            await service.translate(
                session, principal, _id(input.guide_id), language=input.language, sections=sections
            )
            return await _payload(info, session, _id(input.guide_id))

        return await run_mutation(info, work)

    @mutation_field(READ, description="Be notified when the guide publishes a new version.")
    async def subscribe_to_guide(self, info: Info, guide_id: strawberry.ID) -> GuideResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            sub = await service.subscribe(session, principal, _id(guide_id))
            return await _payload(info, session, sub.guide_id)

        return await run_mutation(info, work)

    @mutation_field(READ, description="Mark one of your guide notifications read.")
    async def mark_guide_notification_read(
        self, info: Info, id: strawberry.ID
    ) -> GuideNotificationResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            raw = from_global_id(id, "id", "GuideNotification")[1]
            note = await service.mark_notification_read(session, principal, raw)
            return GuideNotificationPayload(notification=GuideNotification.from_model(note))

        return await run_mutation(info, work)
