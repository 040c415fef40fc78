from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from alliance.db import Base, TimestampedMixin, UTCDateTime, new_id, utcnow


class SubscriptionStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"


class DeliveryStatus(enum.StrEnum):
    PENDING = "PENDING"  # waiting to be sent, or between attempts
    DELIVERED = "DELIVERED"  # the receiver answered 2xx
    DEAD_LETTERED = "DEAD_LETTERED"  # given up; redeliverable on demand


class AttemptOutcome(enum.StrEnum):
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


def _enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(cls, native_enum=False, length=length, create_constraint=True)


class WebhookSubscription(TimestampedMixin, Base):
    """An organisation's receiver URL, its filters, and how far down the change log it is."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    # Empty lists: no filter.
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    working_group_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    indicator_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Kept in clear: signing needs it. Shown to the organisation once, when made or rotated.
    secret: Mapped[str] = mapped_column(String(100))
    status: Mapped[SubscriptionStatus] = mapped_column(
        _enum(SubscriptionStatus), default=SubscriptionStatus.ACTIVE
    )
    paused_reason: Mapped[str | None] = mapped_column(String(500))
    max_attempts: Mapped[int] = mapped_column(Integer)
    # Every change-log row up to here is in a delivery (or was not for this subscription).
    cursor_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    # The worker delivering for this subscription now, and until when it may.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (Index("ix_webhook_subscriptions_status", "status"),)


class WebhookDelivery(Base):
    """One batch of changes for one subscription: its exact body, and where it stands."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    # The change-log rows the batch covers: (first_seq, last_seq]; last_seq is its cursor.
    first_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    last_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    change_count: Mapped[int] = mapped_column(Integer)
    # The JSON body, byte for byte what every attempt sends (signed afresh each time).
    body: Mapped[str] = mapped_column(Text)
    # Attempts since the batch was made or last redelivered (dead-lettered at max_attempts).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dead_lettered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_webhook_deliveries_subscription_status", "subscription_id", "status", "last_seq"),
        Index("ix_webhook_deliveries_subscription_id", "subscription_id", "id"),
    )


class WebhookAttempt(Base):
    """One POST of a delivery: the delivery log's lines."""

    __tablename__ = "webhook_attempts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=new_id)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_ms: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[AttemptOutcome] = mapped_column(_enum(AttemptOutcome))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
