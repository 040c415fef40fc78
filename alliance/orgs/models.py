from __future__ import annotations

import enum
import uuid

from sqlalchemy import (
    Boolean,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from alliance.db import Base, TimestampedMixin, new_id


class OrganisationKind(enum.StrEnum):
    BRAND = "BRAND"
    RIGHTS_HOLDER = "RIGHTS_HOLDER"
    PLATFORM = "PLATFORM"
    ENFORCEMENT = "ENFORCEMENT"
    TRAINER = "TRAINER"
    ASSOCIATION = "ASSOCIATION"


class MembershipRole(enum.StrEnum):
    CHAIR = "CHAIR"
    MEMBER = "MEMBER"
    OBSERVER = "OBSERVER"


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=32, create_constraint=True)


class Organisation(TimestampedMixin, Base):
    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(_enum(OrganisationKind))
    country: Mapped[str | None] = mapped_column(String(2))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Person(TimestampedMixin, Base):
    __tablename__ = "people"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    # A local account (argon2 hash); people vouched for by their organisation's issuer have none.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    org_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class WorkingGroup(TimestampedMixin, Base):
    __tablename__ = "working_groups"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(100))
    charter: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)


class Membership(TimestampedMixin, Base):
    """An organisation's seat in a working group."""

    __tablename__ = "memberships"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    working_group_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE")
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[MembershipRole] = mapped_column(_enum(MembershipRole))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (UniqueConstraint("working_group_id", "organisation_id"),)
