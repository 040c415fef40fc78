"""Banned-category rules: a rule is its identity and visibility; what it says lives in
numbered versions, a draft editable until it is activated and immutable from then on."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from alliance.db import Base, TimestampedMixin, UTCDateTime, new_id
from alliance.rules.definition import RuleStatus
from alliance.sharing import TLP, Distribution


def _enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(cls, native_enum=False, length=length, create_constraint=True)


class Rule(TimestampedMixin, Base):
    __tablename__ = "rules"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    # The organisation that proposed it and the working group it was proposed in.
    owner_org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    working_group_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("working_groups.id", ondelete="RESTRICT"), index=True
    )
    distribution: Mapped[Distribution] = mapped_column(_enum(Distribution))
    tlp: Mapped[TLP] = mapped_column(_enum(TLP))
    status: Mapped[RuleStatus] = mapped_column(_enum(RuleStatus), index=True)
    # The version partners apply (None while never activated, or once retired).
    active_version: Mapped[int | None] = mapped_column(Integer)
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    # Bumped on every write; the change log carries it.
    version: Mapped[int] = mapped_column(Integer, default=1)


class RuleVersion(Base):
    __tablename__ = "rule_versions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    rule_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rules.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[RuleStatus] = mapped_column(_enum(RuleStatus))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    change_note: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    activated_by: Mapped[str | None] = mapped_column(String(200))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("rule_id", "number"),)
