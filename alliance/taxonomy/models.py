from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from alliance.db import Base, TimestampedMixin


class TaxonomyCategory(Base):
    """One node of the canonical category tree; ``id`` is Google's category id."""

    __tablename__ = "taxonomy_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    full_name: Mapped[str] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(Integer, index=True)
    depth: Mapped[int] = mapped_column(Integer)


class PlatformCategory(Base):
    """A partner platform's own category id, mapped onto a node of the tree."""

    __tablename__ = "platform_categories"

    platform: Mapped[str] = mapped_column(String(100), primary_key=True)
    platform_category_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("taxonomy_categories.id", ondelete="RESTRICT"), index=True
    )


class TaxonomySource(TimestampedMixin, Base):
    """What was imported last: the tree (``key`` ``product-taxonomy``) or one platform's map
    (``platform:<name>``), with a version the change log carries."""

    __tablename__ = "taxonomy_sources"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    entries: Mapped[int] = mapped_column(Integer, default=0)
