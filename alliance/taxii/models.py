"""The status of a TAXII ``POST …/objects/`` request, kept so ``GET …/status/{id}/`` answers."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from alliance.db import Base, TimestampedMixin, new_id


class TaxiiStatus(TimestampedMixin, Base):
    __tablename__ = "taxii_status"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    collection_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    total_count: Mapped[int] = mapped_column(Integer)
    success_count: Mapped[int] = mapped_column(Integer)
    failure_count: Mapped[int] = mapped_column(Integer)
    pending_count: Mapped[int] = mapped_column(Integer)
    # [{"id", "version", "message"?}], as the TAXII status resource lists them.
    successes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    pendings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
