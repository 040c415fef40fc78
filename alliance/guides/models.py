"""Identification guides: a guide is its identity, visibility and workflow state; its content
lives in an editable draft and in immutable published versions (one JSON document each)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from alliance.db import Base, TimestampedMixin, UTCDateTime, new_id, utcnow
from alliance.sharing import TLP, Distribution


def _enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(cls, native_enum=False, length=length, create_constraint=True)


class GuideStatus(enum.StrEnum):
    """The workflow state of the guide's draft (PUBLISHED: nothing pending beyond the version
    in force; ARCHIVED: withdrawn, read-only)."""

    DRAFT = "DRAFT"
    IN_REVIEW = "IN_REVIEW"
    APPROVED = "APPROVED"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"


class VersionStatus(enum.StrEnum):
    PUBLISHED = "PUBLISHED"
    SUPERSEDED = "SUPERSEDED"
    ARCHIVED = "ARCHIVED"


class NotificationKind(enum.StrEnum):
    STALE = "STALE"
    PUBLISHED = "PUBLISHED"


class Guide(TimestampedMixin, Base):
    __tablename__ = "guides"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(300))
    owner_org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    working_group_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("working_groups.id", ondelete="RESTRICT"), index=True
    )
    distribution: Mapped[Distribution] = mapped_column(_enum(Distribution))
    tlp: Mapped[TLP] = mapped_column(_enum(TLP))
    source_language: Mapped[str] = mapped_column(String(16))
    status: Mapped[GuideStatus] = mapped_column(_enum(GuideStatus), index=True)
    # The editable content (see ``alliance.guides.sections``).
    draft: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_version: Mapped[int | None] = mapped_column(Integer)
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    # Who wrote the draft under review, and who approved it (actors, e.g. person:…@org).
    submitted_by: Mapped[str | None] = mapped_column(String(200))
    submitted_by_person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    approved_by: Mapped[str | None] = mapped_column(String(200))
    review_note: Mapped[str | None] = mapped_column(Text)
    review_by: Mapped[date | None] = mapped_column(Date, index=True)
    stale_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped on every write; the change log carries it.
    version: Mapped[int] = mapped_column(Integer, default=1)


class GuideVersion(Base):
    """A published version: immutable once written (only its status moves on)."""

    __tablename__ = "guide_versions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    guide_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("guides.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[VersionStatus] = mapped_column(_enum(VersionStatus))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_by: Mapped[str | None] = mapped_column(String(200))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    published_by: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("guide_id", "number"),)


class GuideTranslation(TimestampedMixin, Base):
    """One section of a guide in one language, with the hash of the source section it was
    translated from: a different hash now means the translation is outdated."""

    __tablename__ = "guide_translations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    guide_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("guides.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(String(16))
    section: Mapped[str] = mapped_column(String(100))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    source_hash: Mapped[str] = mapped_column(String(64))
    translated_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("guide_id", "language", "section"),)


class GuidePhoto(Base):
    """A photo of one feature. ``blob_id`` names a row of the blob store (no foreign key: the
    blob tables come in a later migration)."""

    __tablename__ = "guide_photos"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    guide_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("guides.id", ondelete="CASCADE"), index=True
    )
    feature_id: Mapped[str] = mapped_column(String(64))
    blob_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    caption: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GuideSubscription(Base):
    __tablename__ = "guide_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    guide_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("guides.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("guide_id", "organisation_id", "person_id"),)


class GuideNotification(Base):
    """There is no mail system: notifications wait here until their reader fetches them."""

    __tablename__ = "guide_notifications"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    guide_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("guides.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    kind: Mapped[NotificationKind] = mapped_column(_enum(NotificationKind))
    version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class GuideTellIndicator(Base):
    """An indicator assertion a counterfeit tell compiled into when its guide was published."""

    __tablename__ = "guide_tell_indicators"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    guide_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("guides.id", ondelete="CASCADE"), index=True
    )
    tell_id: Mapped[str] = mapped_column(String(64))
    assertion_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("indicator_assertions.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("guide_id", "tell_id", "assertion_id"),)
