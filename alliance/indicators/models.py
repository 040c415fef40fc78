"""Indicators: one canonical row per (type, normalised value); everything organisations say about
it is an assertion, a reaction or a proposal, each carrying its own visibility fields."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from alliance.db import Base, TimestampedMixin, UTCDateTime, new_id
from alliance.indicators.indicator_type import IndicatorType
from alliance.sharing import TLP, Distribution


class Severity(enum.StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class AssertionStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"
    DISPUTED = "DISPUTED"


class RevocationReason(enum.StrEnum):
    FALSE_POSITIVE = "FALSE_POSITIVE"
    TAKEN_DOWN = "TAKEN_DOWN"
    AUTHORISED_RESELLER = "AUTHORISED_RESELLER"
    EXPIRED = "EXPIRED"
    WITHDRAWN = "WITHDRAWN"


class ReactionKind(enum.StrEnum):
    SEEN_TOO = "SEEN_TOO"
    CONFIRMED_BY_TEST_BUY = "CONFIRMED_BY_TEST_BUY"
    FALSE_POSITIVE = "FALSE_POSITIVE"
    DISPUTED = "DISPUTED"
    OUTDATED = "OUTDATED"
    TAKEN_DOWN = "TAKEN_DOWN"


class TestBuyVerdict(enum.StrEnum):
    __test__ = False  # not a pytest class, whatever its name says

    COUNTERFEIT = "COUNTERFEIT"
    GENUINE = "GENUINE"
    INCONCLUSIVE = "INCONCLUSIVE"


class ProposalState(enum.StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"


class AllowlistKind(enum.StrEnum):
    OFFICIAL_STORE = "OFFICIAL_STORE"
    AUTHORISED_DISTRIBUTOR = "AUTHORISED_DISTRIBUTOR"
    OFFICIAL_IMAGE = "OFFICIAL_IMAGE"


class LinkReason(enum.StrEnum):
    # Submitted together by one organisation under one group key (a test buy, a case).
    SUBMITTED_TOGETHER = "SUBMITTED_TOGETHER"


class ImportState(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


def _enum(cls: type[enum.Enum], length: int = 32) -> Enum:
    return Enum(
        cls,
        native_enum=False,
        length=length,
        create_constraint=True,
        values_callable=lambda members: [m.value for m in members],
    )


class VisibilityMixin:
    """The four visibility fields the sharing policy reads."""

    owner_org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    working_group_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="RESTRICT"), index=True
    )
    distribution: Mapped[Distribution] = mapped_column(_enum(Distribution, 16))
    tlp: Mapped[TLP] = mapped_column(_enum(TLP, 16))


class Indicator(TimestampedMixin, Base):
    """The canonical value. It carries no visibility of its own: a viewer sees it through the
    assertions it may see, and not at all when it may see none."""

    __tablename__ = "indicators"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    type: Mapped[IndicatorType] = mapped_column(_enum(IndicatorType))
    value: Mapped[str] = mapped_column(Text)
    # SHA-256 of "type:value": values reach 4 KiB (URLs), beyond what a btree index takes.
    value_digest: Mapped[str] = mapped_column(String(64), unique=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)


class IndicatorMatchKey(Base):
    """Further keys an indicator is matched on (registrable domain, confusable skeleton…)."""

    __tablename__ = "indicator_match_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    indicator_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("indicators.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(1024))

    __table_args__ = (Index("ix_indicator_match_keys_name_value", "name", "value"),)


class IndicatorAssertion(VisibilityMixin, TimestampedMixin, Base):
    """One organisation's statement about an indicator, in one working group (or none)."""

    __tablename__ = "indicator_assertions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    indicator_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("indicators.id", ondelete="RESTRICT"), index=True
    )
    confidence: Mapped[int] = mapped_column(Integer)
    severity: Mapped[Severity] = mapped_column(_enum(Severity))
    brands: Mapped[list[str]] = mapped_column(JSON, default=list)
    product_category: Mapped[str | None] = mapped_column(String(100))
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    evidence_links: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The submitted details the normaliser reported (platform, country, carrier…).
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    group_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[AssertionStatus] = mapped_column(_enum(AssertionStatus), index=True)
    revocation_reason: Mapped[RevocationReason | None] = mapped_column(_enum(RevocationReason))
    revocation_note: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The score over this assertion and the reactions that share its visibility, refreshed on
    # each write and by the periodic task; list filters (minScore) read it.
    score: Mapped[float] = mapped_column(Float, default=0.0, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        Index(
            "ix_indicator_assertions_indicator_owner",
            "indicator_id",
            "owner_org_id",
            "working_group_id",
        ),
        # TAXII pages sort assertions by their last write.
        Index("ix_indicator_assertions_updated_at", "updated_at"),
    )


class IndicatorReaction(VisibilityMixin, TimestampedMixin, Base):
    """Another organisation's (or the owner's) reaction to an assertion; the owner columns name
    the reacting organisation, the other visibility fields default to the assertion's."""

    __tablename__ = "indicator_reactions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    assertion_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("indicator_assertions.id", ondelete="RESTRICT"), index=True
    )
    indicator_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("indicators.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[ReactionKind] = mapped_column(_enum(ReactionKind))
    platform: Mapped[str | None] = mapped_column(String(100))
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    count: Mapped[int | None] = mapped_column(Integer)
    order_number: Mapped[str | None] = mapped_column(String(200))
    verdict: Mapped[TestBuyVerdict | None] = mapped_column(_enum(TestBuyVerdict))
    evidence_url: Mapped[str | None] = mapped_column(String(2048))
    reason: Mapped[str | None] = mapped_column(Text)
    platform_action: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)


class IndicatorProposal(VisibilityMixin, TimestampedMixin, Base):
    """A correction another organisation proposes to an assertion; its owner decides. The owner
    columns name the proposer; the other visibility fields are the assertion's."""

    __tablename__ = "indicator_proposals"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    assertion_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("indicator_assertions.id", ondelete="RESTRICT"), index=True
    )
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[ProposalState] = mapped_column(_enum(ProposalState))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)


class AllowlistEntry(VisibilityMixin, TimestampedMixin, Base):
    """A value a brand registers as its own (an official store, an authorised distributor, an
    official product image): submitting it as an indicator is refused."""

    __tablename__ = "brand_allowlist_entries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    kind: Mapped[AllowlistKind] = mapped_column(_enum(AllowlistKind))
    type: Mapped[IndicatorType] = mapped_column(_enum(IndicatorType))
    value: Mapped[str] = mapped_column(Text)
    value_digest: Mapped[str] = mapped_column(String(64), index=True)
    brand: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (UniqueConstraint("owner_org_id", "value_digest"),)


class IndicatorLink(TimestampedMixin, Base):
    """Two assertions known to belong together. Visible only to a viewer who sees both ends."""

    __tablename__ = "indicator_links"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    # Stored with source_id < target_id, so a pair is stored once.
    source_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("indicator_assertions.id", ondelete="CASCADE"), index=True
    )
    target_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("indicator_assertions.id", ondelete="CASCADE"), index=True
    )
    source_indicator_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("indicators.id", ondelete="CASCADE"), index=True
    )
    target_indicator_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("indicators.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[LinkReason] = mapped_column(_enum(LinkReason))
    group_key: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("source_id", "target_id"),)


class SubmissionBatch(TimestampedMixin, Base):
    """The outcome of one idempotent batch submission, replayed when its key comes again."""

    __tablename__ = "indicator_submission_batches"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_digest: Mapped[str] = mapped_column(String(64))
    # One entry per item: {"assertion_id": …, "created": …} or {"problems": [...], "code": …}.
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("organisation_id", "idempotency_key"),)


class ImportJob(TimestampedMixin, Base):
    """A file import (CSV/JSON) of indicators run in the background; one per file per
    organisation, so uploading the same file again finds the first job."""

    __tablename__ = "indicator_import_jobs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    working_group_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="RESTRICT")
    )
    file_digest: Mapped[str] = mapped_column(String(64))
    state: Mapped[ImportState] = mapped_column(_enum(ImportState))
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_failed: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (UniqueConstraint("organisation_id", "file_digest"),)
