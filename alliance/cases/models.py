"""Test buys, cases and their evidence.

A test buy is shared like an indicator (it carries the four visibility fields). A case is not:
it is seen by its participants only (the opening organisation, the enforcement organisation it
is referred to, organisations added to it), which :func:`alliance.sharing.policy.
participants_only_predicate` decides over :class:`CaseParticipant` rows.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
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
from alliance.indicators.models import TestBuyVerdict, VisibilityMixin


def _enum(cls: type[enum.Enum], length: int = 32) -> Enum:
    return Enum(
        cls,
        native_enum=False,
        length=length,
        create_constraint=True,
        values_callable=lambda members: [m.value for m in members],
    )


class CaseStatus(enum.StrEnum):
    OPEN = "OPEN"
    REFERRED = "REFERRED"
    ACCEPTED = "ACCEPTED"
    INVESTIGATING = "INVESTIGATING"
    CLOSED = "CLOSED"


class ParticipantRole(enum.StrEnum):
    OPENER = "OPENER"
    ENFORCEMENT = "ENFORCEMENT"
    PLATFORM = "PLATFORM"
    CONTRIBUTOR = "CONTRIBUTOR"


class EvidenceKind(enum.StrEnum):
    PHOTO = "PHOTO"
    RECEIPT = "RECEIPT"
    SCREENSHOT = "SCREENSHOT"
    SALES_RECORDS = "SALES_RECORDS"
    DOCUMENT = "DOCUMENT"


class CaseEventKind(enum.StrEnum):
    OPENED = "OPENED"
    ITEMS_ADDED = "ITEMS_ADDED"
    PARTICIPANT_ADDED = "PARTICIPANT_ADDED"
    REFERRED = "REFERRED"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    INVESTIGATING = "INVESTIGATING"
    SALES_RECORDS_ATTACHED = "SALES_RECORDS_ATTACHED"
    CLOSED = "CLOSED"


class TestBuy(VisibilityMixin, TimestampedMixin, Base):
    """A purchase made to check a seller; the owner columns name the buying organisation."""

    __test__ = False  # not a pytest class, whatever its name says
    __tablename__ = "test_buys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    buyer_person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    buyer_name: Mapped[str | None] = mapped_column(String(200))
    purchased_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    platform: Mapped[str] = mapped_column(String(100))
    listing_url: Mapped[str | None] = mapped_column(String(2048))
    seller: Mapped[str] = mapped_column(String(500))
    order_number: Mapped[str] = mapped_column(String(200))
    # Minor units (cents), so sums are exact on both databases.
    price_minor: Mapped[int | None] = mapped_column(BigInteger)
    price_currency: Mapped[str | None] = mapped_column(String(3))
    shipping_address: Mapped[str | None] = mapped_column(Text)
    return_address: Mapped[str | None] = mapped_column(Text)
    waybill: Mapped[str | None] = mapped_column(String(200))
    verdict: Mapped[TestBuyVerdict] = mapped_column(_enum(TestBuyVerdict))
    # The identification guide and the features of it the item was judged against.
    guide_reference: Mapped[str | None] = mapped_column(String(200))
    features_checked: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)


class TestBuyConfirmation(Base):
    """An indicator assertion a test buy confirms, with the CONFIRMED_BY_TEST_BUY reaction."""

    __test__ = False
    __tablename__ = "test_buy_confirmations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    test_buy_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("test_buys.id", ondelete="CASCADE"), index=True
    )
    assertion_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("indicator_assertions.id", ondelete="RESTRICT")
    )
    indicator_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("indicators.id", ondelete="RESTRICT"), index=True
    )
    reaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("indicator_reactions.id", ondelete="RESTRICT")
    )

    __table_args__ = (UniqueConstraint("test_buy_id", "assertion_id"),)


class Case(TimestampedMixin, Base):
    __tablename__ = "cases"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    # Unique per opening organisation only: a global constraint would tell an outsider, by a
    # conflict, that someone else's case exists.
    reference: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    owner_org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    working_group_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="RESTRICT"), index=True
    )
    jurisdiction: Mapped[str] = mapped_column(String(16))
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus), index=True)
    seller_network_indicator_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("indicators.id", ondelete="RESTRICT")
    )
    enforcement_org_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    decline_reason: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    referred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome_suspects: Mapped[int | None] = mapped_column(Integer)
    outcome_seized_minor: Mapped[int | None] = mapped_column(BigInteger)
    outcome_seized_currency: Mapped[str | None] = mapped_column(String(3))
    outcome_sites_closed: Mapped[int | None] = mapped_column(Integer)
    outcome_prosecutions: Mapped[int | None] = mapped_column(Integer)
    outcome_no_action: Mapped[bool | None] = mapped_column(Boolean)
    outcome_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (UniqueConstraint("owner_org_id", "reference"),)


class CaseParticipant(Base):
    """An organisation that sees a case: these rows are the case's whole visibility."""

    __tablename__ = "case_participants"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    role: Mapped[ParticipantRole] = mapped_column(_enum(ParticipantRole))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("case_id", "organisation_id"),)


class CaseItem(Base):
    """An indicator or a test buy a case is about."""

    __tablename__ = "case_items"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    indicator_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("indicators.id", ondelete="RESTRICT")
    )
    test_buy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("test_buys.id", ondelete="RESTRICT")
    )
    added_by_org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("case_id", "indicator_id"),
        UniqueConstraint("case_id", "test_buy_id"),
    )


class CaseEvent(Base):
    """One line of a case's timeline."""

    __tablename__ = "case_events"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[CaseEventKind] = mapped_column(_enum(CaseEventKind))
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    actor: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (UniqueConstraint("case_id", "seq"),)


class EvidenceFile(Base):
    """A file received as evidence: its bytes live in the evidence store under its SHA-256."""

    __tablename__ = "evidence_files"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(200))
    kind: Mapped[EvidenceKind] = mapped_column(_enum(EvidenceKind))
    description: Mapped[str] = mapped_column(Text, default="")
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_by_org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    # Who uploaded it (person:<id>, client:<id>…): an identifier, not a name.
    received_by: Mapped[str] = mapped_column(String(200))
    test_buy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("test_buys.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )


class CaseManifestEntry(Base):
    """One link of a case's evidence hash chain (see :mod:`alliance.cases.manifest`)."""

    __tablename__ = "case_manifest_entries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    evidence_file_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("evidence_files.id", ondelete="RESTRICT")
    )
    # The entry as hashed (alliance.cases.manifest.Entry.fields), kept verbatim.
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    previous_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("case_id", "seq"),)
