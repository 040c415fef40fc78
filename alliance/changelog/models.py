from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Enum, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from alliance.db import Base, UTCDateTime, utcnow
from alliance.sharing import TLP, Distribution


class Operation(enum.StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    REVOKE = "REVOKE"
    # Shown to a reader who could see the object before this change and cannot after it
    # (visibility lowered, or the reader's seat ended): drop your copy.
    REMOVE = "REMOVE"


# The reason on REMOVE rows written because an organisation's seat ended, and the reason a
# removal carries when it reaches a reader because the object's visibility was lowered.
SEAT_ENDED = "SEAT_ENDED"
VISIBILITY_LOWERED = "VISIBILITY_LOWERED"


class ChangeLogEntry(Base):
    """One committed write of a shared object; ``seq`` is the global, gap-tolerant cursor."""

    __tablename__ = "change_log"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    operation: Mapped[Operation] = mapped_column(
        Enum(Operation, native_enum=False, length=16, create_constraint=True)
    )
    owner_org_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    working_group_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    distribution: Mapped[Distribution] = mapped_column(
        Enum(Distribution, native_enum=False, length=16, create_constraint=True)
    )
    tlp: Mapped[TLP] = mapped_column(
        Enum(TLP, native_enum=False, length=16, create_constraint=True)
    )
    # The visibility before this change, when it narrowed it: readers who saw the object
    # before and do not now read this row as a removal.
    prev_owner_org_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    prev_working_group_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    prev_distribution: Mapped[Distribution | None] = mapped_column(
        Enum(
            Distribution,
            name="prev_distribution",
            native_enum=False,
            length=16,
            create_constraint=True,
        )
    )
    prev_tlp: Mapped[TLP | None] = mapped_column(
        Enum(TLP, name="prev_tlp", native_enum=False, length=16, create_constraint=True)
    )
    # A removal addressed to one organisation only (its seat in the object's group ended).
    audience_org_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    # Why a REVOKE, DELETE or REMOVE happened (e.g. FALSE_POSITIVE, TAKEN_DOWN, SEAT_ENDED):
    # tombstones say why, never a silent removal.
    reason: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_change_log_kind_object", "kind", "object_id"),
        # A seat that ends looks up the group's objects to write their removals.
        Index("ix_change_log_working_group", "working_group_id", "seq"),
    )


class ConsumerCursor(Base):
    """How far one consumer of the change log (search indexer, webhooks, matcher, a peer
    pull) has got: it resumes after ``seq``."""

    __tablename__ = "consumer_cursor"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(2000))
