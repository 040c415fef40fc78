from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from alliance.db import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    """One append-only audit record; ``entry_hash`` commits to this row and ``prev_hash``."""

    __tablename__ = "audit_log"

    # Assigned by the chain writer (previous + 1, under the chain lock), not by a database
    # sequence: sequences leave gaps on rollback, and a gap must mean a removed entry.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(16))  # "allowed" or "denied"
    actor: Mapped[str | None] = mapped_column(String(200))
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    client_id: Mapped[str | None] = mapped_column(String(200))
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    target_kind: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_log_organisation_seq", "organisation_id", "seq"),)
