"""A stored upload: what it is (sniffed, measured, hashed) and who uploaded it.

A blob is not shared by itself: who may read it follows from the objects that refer to it
(see ``alliance.blobs.access``), so it carries an owner but no distribution of its own.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from alliance.db import Base, UTCDateTime, new_id, utcnow


class ThumbnailStatus(enum.StrEnum):
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"
    NONE = "NONE"  # not an image: no thumbnail is made


class Blob(Base):
    __tablename__ = "blobs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    owner_org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    # Of the stored (sanitised) bytes: the storage key.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    phash: Mapped[str | None] = mapped_column(String(16), index=True)
    pdq: Mapped[str | None] = mapped_column(String(64))
    pdq_quality: Mapped[int | None] = mapped_column(Integer)
    thumbnail_status: Mapped[ThumbnailStatus] = mapped_column(
        Enum(ThumbnailStatus, native_enum=False, length=16, create_constraint=True)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
