from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from alliance.guides import models, sections
from alliance.guides.diff import SectionChange
from alliance.guides.markdown import render
from alliance.guides.service import GuideView
from schema.orgs.types import Organisation, WorkingGroup
from schema.relay import Node, to_global_id
from schema.sharing import TLP, Distribution

GuideStatus = strawberry.enum(
    models.GuideStatus,
    description=(
        "The draft's workflow: DRAFT → IN_REVIEW → APPROVED → PUBLISHED; ARCHIVED guides are "
        "withdrawn. A published guide being edited again is DRAFT while readers keep reading "
        "its published version."
    ),
)
GuideVersionStatus = strawberry.enum(models.VersionStatus, name="GuideVersionStatus")
NotificationKind = strawberry.enum(models.NotificationKind, name="GuideNotificationKind")
FeatureKind = strawberry.enum(sections.FeatureKind, name="GuideFeatureKind")
Tier = strawberry.enum(
    sections.Tier,
    name="GuideFeatureTier",
    description=(
        "OVERT features are read by everyone who may read the guide; COVERT and FORENSIC ones "
        "only by enforcement organisations, reviewers of the guide's group and its owner."
    ),
)
RegistrationKind = strawberry.enum(sections.RegistrationKind, name="RightsRegistrationKind")
SupplyRole = strawberry.enum(sections.SupplyRole, name="SupplyChainRole")


@strawberry.enum(name="GuideTranslationStatus")
class TranslationStatus(enum.Enum):
    CURRENT = "CURRENT"
    OUTDATED = "OUTDATED"
    MISSING = "MISSING"


@strawberry.enum(name="GuideChange")
class Change(enum.Enum):
    ADDED = "ADDED"
    REMOVED = "REMOVED"
    CHANGED = "CHANGED"


@strawberry.type
class RightsRegistration:
    kind: RegistrationKind  # type: ignore[valid-type]
    number: str
    jurisdiction: str
    note: str


@strawberry.type
class CustomsRecordation:
    number: str
    jurisdiction: str


@strawberry.type
class GuideRights:
    registrations: list[RightsRegistration]
    customs_recordations: list[CustomsRecordation]
    jurisdictions: list[str]


@strawberry.type
class VerificationContact:
    name: str
    organisation: str
    languages: list[str]
    hours: str
    reach: str = strawberry.field(description="How to reach them.")


@strawberry.type
class ImageHash:
    type: str
    value: str


@strawberry.type
class GuidePhoto:
    id: strawberry.ID
    blob_id: strawberry.ID
    caption: str
    url: str


@strawberry.type
class GuideFeature:
    id: str
    kind: FeatureKind  # type: ignore[valid-type]
    tier: Tier  # type: ignore[valid-type]
    title: str
    text: str
    text_html: str = strawberry.field(description="The text rendered (sanitised HTML).")
    keywords: list[str]
    misspellings: list[str]
    image_hashes: list[ImageHash]
    photos: list[GuidePhoto]


@strawberry.type
class SerialFormat:
    id: str
    name: str
    pattern: str
    examples: list[str]
    description: str


@strawberry.type
class SupplyChainEntry:
    role: SupplyRole  # type: ignore[valid-type]
    name: str
    country: str
    url: str


@strawberry.type(description="A guide's sections as the caller may read them.")
class GuideContent:
    title: str
    summary: str
    summary_html: str
    brands: list[str]
    product_lines: list[str]
    category_id: int | None
    gtins: list[str]
    rights: GuideRights
    contacts: list[VerificationContact]
    features: list[GuideFeature]
    packaging: str
    packaging_html: str
    labels: str
    labels_html: str
    serial_formats: list[SerialFormat]
    supply_chain: list[SupplyChainEntry]
    price_guidance: str
    price_guidance_html: str
    test_buy_notes: str
    test_buy_notes_html: str

    @classmethod
    def from_view(cls, view: GuideView) -> GuideContent:
        c: dict[str, Any] = view.content
        photos: dict[str, list[GuidePhoto]] = {}
        for p in view.photos:
            photos.setdefault(p.feature_id, []).append(
                GuidePhoto(
                    id=to_global_id("GuidePhoto", p.id),
                    blob_id=strawberry.ID(str(p.blob_id)),
                    caption=p.caption,
                    url=f"/v1/blobs/{p.blob_id}",
                )
            )
        rights = c.get("rights") or {}
        return cls(
            title=c["title"],
            summary=c.get("summary", ""),
            summary_html=render(c.get("summary")),
            brands=list(c.get("brands", [])),
            product_lines=list(c.get("product_lines", [])),
            category_id=c.get("category_id"),
            gtins=list(c.get("gtins", [])),
            rights=GuideRights(
                registrations=[RightsRegistration(**r) for r in rights.get("registrations", [])],
                customs_recordations=[
                    CustomsRecordation(**r) for r in rights.get("customs_recordations", [])
                ],
                jurisdictions=list(rights.get("jurisdictions", [])),
            ),
            contacts=[VerificationContact(**r) for r in c.get("contacts", [])],
            features=[
                GuideFeature(
                    id=f["id"],
                    kind=f["kind"],
                    tier=f["tier"],
                    title=f["title"],
                    text=f["text"],
                    text_html=render(f["text"]),
                    keywords=list(f.get("keywords", [])),
                    misspellings=list(f.get("misspellings", [])),
                    image_hashes=[ImageHash(**h) for h in f.get("image_hashes", [])],
                    photos=photos.get(f["id"], []),
                )
                for f in c.get("features", [])
            ],
            packaging=c.get("packaging", ""),
            packaging_html=render(c.get("packaging")),
            labels=c.get("labels", ""),
            labels_html=render(c.get("labels")),
            serial_formats=[SerialFormat(**s) for s in c.get("serial_formats", [])],
            supply_chain=[SupplyChainEntry(**s) for s in c.get("supply_chain", [])],
            price_guidance=c.get("price_guidance", ""),
            price_guidance_html=render(c.get("price_guidance")),
            test_buy_notes=c.get("test_buy_notes", ""),
            test_buy_notes_html=render(c.get("test_buy_notes")),
        )


@strawberry.type
class SectionTranslation:
    section: str
    status: TranslationStatus


@strawberry.type(description="An identification guide, read in one version and one language.")
class Guide(Node):
    id: strawberry.ID
    title: str
    status: GuideStatus  # type: ignore[valid-type]
    version: int = strawberry.field(description="Bumped on every write (optimistic locking).")
    published_version: int | None
    latest_version: int
    read_version: int | None = strawberry.field(
        description="The published version shown here; null: the draft."
    )
    source_language: str
    language: str = strawberry.field(description="The language shown (the source as fallback).")
    translations: list[SectionTranslation] = strawberry.field(
        description="Per translatable section, its state in the language shown (none: source)."
    )
    distribution: Distribution  # type: ignore[valid-type]
    tlp: TLP  # type: ignore[valid-type]
    review_by: date | None
    stale: bool
    submitted_by: str | None
    approved_by: str | None
    review_note: str | None
    restricted_tiers_visible: bool = strawberry.field(
        description="Whether covert and forensic features are shown to the caller."
    )
    content: GuideContent
    created_at: datetime
    updated_at: datetime
    _owner_id: strawberry.Private[Any]
    _group_id: strawberry.Private[Any]

    @classmethod
    def from_view(cls, view: GuideView) -> Guide:
        g = view.guide
        return cls(
            id=to_global_id("Guide", g.id),
            title=view.content["title"],
            status=g.status,
            version=g.version,
            published_version=g.published_version,
            latest_version=g.latest_version,
            read_version=view.number,
            source_language=g.source_language,
            language=view.language,
            translations=[
                SectionTranslation(section=k, status=TranslationStatus(v))
                for k, v in sorted(view.translations.items())
            ],
            distribution=g.distribution,
            tlp=g.tlp,
            review_by=g.review_by,
            stale=g.stale_since is not None,
            submitted_by=g.submitted_by,
            approved_by=g.approved_by,
            review_note=g.review_note,
            restricted_tiers_visible=view.restricted,
            content=GuideContent.from_view(view),
            created_at=g.created_at,
            updated_at=g.updated_at,
            _owner_id=g.owner_org_id,
            _group_id=g.working_group_id,
        )

    @strawberry.field
    async def owner(self, info: Info) -> Organisation | None:
        org = await info.context.loaders.organisation.load(self._owner_id)
        return Organisation.from_model(org) if org else None

    @strawberry.field
    async def working_group(self, info: Info) -> WorkingGroup | None:
        group = await info.context.loaders.working_group.load(self._group_id)
        return WorkingGroup.from_model(group) if group else None


@strawberry.type
class GuideItemChange:
    id: str
    change: Change
    before: JSON | None
    after: JSON | None


@strawberry.type(description="One section that differs between two versions.")
class GuideSectionChange:
    section: str
    change: Change
    before: JSON | None
    after: JSON | None
    items: list[GuideItemChange] = strawberry.field(
        description="For features and serial formats: the items added, removed or changed."
    )

    @classmethod
    def of(cls, change: SectionChange) -> GuideSectionChange:
        return cls(
            section=change.section,
            change=Change(change.change.value),
            before=change.before,
            after=change.after,
            items=[
                GuideItemChange(
                    id=i.id, change=Change(i.change.value), before=i.before, after=i.after
                )
                for i in change.items
            ],
        )


@strawberry.type
class SerialFormatResult:
    format_id: str
    name: str
    valid: bool
    reason: str | None


@strawberry.type
class SerialValidation:
    valid: bool = strawberry.field(description="The value matches at least one format.")
    formats: list[SerialFormatResult]


@strawberry.type
class GuideNotification(Node):
    id: strawberry.ID
    guide_id: strawberry.ID
    kind: NotificationKind  # type: ignore[valid-type]
    version: int | None
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def from_model(cls, n: models.GuideNotification) -> GuideNotification:
        return cls(
            id=to_global_id("GuideNotification", n.id),
            guide_id=to_global_id("Guide", n.guide_id),
            kind=n.kind,
            version=n.version,
            created_at=n.created_at,
            read_at=n.read_at,
        )
